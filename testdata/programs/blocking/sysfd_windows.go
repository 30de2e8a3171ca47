package main

import "syscall"

// sysfd is the type of a raw file descriptor for package syscall. The
// Windows build only exists for symbolizer tests; it is never traced.
type sysfd = syscall.Handle
