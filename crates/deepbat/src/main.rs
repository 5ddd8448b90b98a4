//! The `deepbat` command: one `match` over the modes; each mode lives in `commands/`.

/// `println!` for command output: a failed write (a closed pipe, say) returns the error
/// from the enclosing function instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(error) = writeln!(std::io::stdout(), $($arg)*) {
            return Err(error.into());
        }
    }};
}

/// `print!` for command output, as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(error) = write!(std::io::stdout(), $($arg)*) {
            return Err(error.into());
        }
    }};
}

mod cli;
mod commands;
mod output;
mod plot;
mod surrogate_policy;

use clap::Parser;
use cli::{Cli, Command, MapCommand, ProfileCommand, TraceCommand};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Trace(TraceCommand::Stats(args)) => commands::trace::stats(&args),
        Command::Trace(TraceCommand::Plot(args)) => commands::trace_plot::run(&args),
        Command::Simulate(args) => commands::simulate::run(&args),
        Command::Train(args) => commands::train::run(&args),
        Command::Optimize(args) => commands::optimize::run(&args),
        Command::Replay(args) => commands::replay::run(&args),
        Command::Demo(args) => commands::demo::run(&args),
        Command::Synth(args) => commands::synth::run(&args),
        Command::Analytic(args) => commands::analytic::run(&args),
        Command::Map(MapCommand::Fit(args)) => commands::map::fit(&args),
        Command::Map(MapCommand::Show(args)) => commands::map::show(&args),
        Command::Profile(ProfileCommand::Show(args)) => commands::profile::show(&args),
        Command::Profile(ProfileCommand::Fit(args)) => commands::profile::fit(&args),
        Command::Oracle(args) => commands::oracle::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped early (`| head`) is not a failure of ours.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The error and its causes on one line, without repeating a cause that the message
/// before it already quotes (library errors often include their source's text).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line.replace('\n', " ")
}

/// Logs go to stderr so that stdout stays clean for tables and JSON.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour only on a terminal: logs redirected to a file stay plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .init();
}
