//! Prints Tessera's OpenAPI document: `cargo run -p tessera-api --example openapi > openapi.json`.

fn main() {
    println!("{}", tessera_api::openapi().to_pretty_json().expect("the document serializes"));
}
