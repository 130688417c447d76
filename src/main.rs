fn main() -> std::process::ExitCode {
    standby::run()
}
