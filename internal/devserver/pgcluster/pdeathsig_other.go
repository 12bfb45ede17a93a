//go:build unix && !linux

package pgcluster

import "syscall"

// setParentDeathSignal does nothing: only Linux can signal a child when its
// parent dies.
func setParentDeathSignal(*syscall.SysProcAttr) {}
