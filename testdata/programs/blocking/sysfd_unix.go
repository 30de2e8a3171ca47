//go:build !windows

package main

// sysfd is the type of a raw file descriptor for package syscall.
type sysfd = int
