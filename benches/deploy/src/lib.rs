//! The lab's deployment runner: a whole deployment, the monolith (one
//! process) or the microservices (four services and the gateway), started
//! as child processes ([`deployment`]), each kept running by a supervisor
//! that starts again one that exits ([`supervisor`], over [`process`]), on
//! fresh databases ([`scratch`]: SQLite files, or PostgreSQL databases made
//! with [`postgres`]), pinned to cores where asked ([`pin`]), with the CPU
//! time and memory of each process read from `/proc` ([`cpu`]), its
//! instructions counted under valgrind ([`callgrind`]) and its system calls
//! with the kernel's tracepoints ([`syscalls`]). Long steps say how far
//! they are with [`progress`].
//!
//! Used by the harness (`shoplab`: every experiment, `shoplab up`, the
//! contract suite and the benches).

pub mod callgrind;
pub mod containers;
pub mod cpu;
pub mod deployment;
pub mod pin;
pub mod postgres;
pub mod process;
pub mod progress;
pub mod scratch;
pub mod supervisor;
pub mod syscalls;
