package montest

import "syscall"

// childAttr makes a daemon die with the test binary: a test binary killed
// by go test's timeout must not leave Nagios running.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
