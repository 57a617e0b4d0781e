//! The vmbar tray app's entry point: everything lives in the library so tests can reach it.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    vmbar_app::main_entry();
}
