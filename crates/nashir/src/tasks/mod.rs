//! Background work that runs inside the server: loops started at boot and stopped at shutdown.
//! The task supervisor (one place that starts every loop and awaits it at shutdown) will live
//! here; for now it holds the scheduler.

pub mod scheduler;
