//! The overview's chart: tokens issued per day as an inline SVG bar chart (no chart library and
//! no CDN: the server renders it like any other markup).

use leptos::prelude::*;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const LEFT: f64 = 32.0;
const BOTTOM: f64 = 22.0;

/// One bar per `(label, count)`, oldest first; a label under every fifth bar and the last.
#[component]
pub fn TokensChart(days: Vec<(String, u64)>) -> impl IntoView {
    let max = days.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let total: u64 = days.iter().map(|(_, n)| *n).sum();
    let scale_max = max.max(1) as f64;
    let plot_h = HEIGHT - BOTTOM - 8.0;
    let slot = (WIDTH - LEFT) / days.len().max(1) as f64;
    let bar_w = (slot * 0.7).max(2.0);
    let last = days.len().saturating_sub(1);
    let bars = days
        .into_iter()
        .enumerate()
        .map(|(i, (label, n))| {
            let h = if n == 0 { 1.5 } else { (n as f64 / scale_max * plot_h).max(3.0) };
            let x = LEFT + i as f64 * slot + (slot - bar_w) / 2.0;
            let y = HEIGHT - BOTTOM - h;
            let fill = if n == 0 { "#e2e8f0" } else { "#6366f1" };
            let tip = format!("{label}: {n} token{}", if n == 1 { "" } else { "s" });
            let show_label = i % 5 == 0 || i == last;
            view! {
                <g>
                    <rect x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{bar_w:.1}") height=format!("{h:.1}") rx="2" fill=fill>
                        <title>{tip}</title>
                    </rect>
                    {show_label
                        .then(|| {
                            view! {
                                <text
                                    x=format!("{:.1}", x + bar_w / 2.0)
                                    y=format!("{:.1}", HEIGHT - 6.0)
                                    text-anchor="middle"
                                    font-size="10"
                                    fill="#64748b"
                                >
                                    {label.clone()}
                                </text>
                            }
                        })}
                </g>
            }
        })
        .collect_view();
    view! {
        <figure>
            <svg
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                class="h-44 w-full"
                role="img"
                aria-label=format!("Tokens issued per day over the last 30 days: {total} in all, at most {max} in a day")
                xmlns="http://www.w3.org/2000/svg"
            >
                <line x1=LEFT.to_string() x2=WIDTH.to_string() y1=format!("{:.1}", HEIGHT - BOTTOM) y2=format!("{:.1}", HEIGHT - BOTTOM) stroke="#cbd5e1"/>
                <line x1=LEFT.to_string() x2=WIDTH.to_string() y1=format!("{:.1}", HEIGHT - BOTTOM - plot_h) y2=format!("{:.1}", HEIGHT - BOTTOM - plot_h) stroke="#f1f5f9"/>
                <text x=(LEFT - 6.0).to_string() y=format!("{:.1}", HEIGHT - BOTTOM - plot_h + 4.0) text-anchor="end" font-size="10" fill="#64748b">
                    {max.to_string()}
                </text>
                <text x=(LEFT - 6.0).to_string() y=format!("{:.1}", HEIGHT - BOTTOM + 3.0) text-anchor="end" font-size="10" fill="#64748b">
                    "0"
                </text>
                {bars}
            </svg>
            <figcaption class="mt-2 text-sm text-slate-500">
                {if total == 0 {
                    "No tokens issued in the last 30 days. Tokens appear here once your backend calls the API.".to_owned()
                } else {
                    format!("{total} token{} issued in the last 30 days (UTC days).", if total == 1 { "" } else { "s" })
                }}
            </figcaption>
        </figure>
    }
}
