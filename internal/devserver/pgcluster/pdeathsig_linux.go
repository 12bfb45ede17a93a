package pgcluster

import "syscall"

// setParentDeathSignal asks the kernel to send the server a fast-shutdown
// signal if this process dies without calling Stop (for example when it is
// killed with SIGKILL), so no orphaned server keeps the data directory
// locked. The signal is tied to the OS thread that starts the server; Go only
// retires threads whose goroutine exits while locked to them, which Start's
// callers do not do.
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGINT
}
