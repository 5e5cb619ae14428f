//go:build unix

package interop

import (
	"os/exec"
	"syscall"
)

// ownGroup puts the process in its own process group, so that killGroup
// also stops its children (Chromium's renderers).
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills a process started with ownGroup, and its children.
func killGroup(cmd *exec.Cmd) { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
