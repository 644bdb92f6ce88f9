// The server's system-call layer is part of its API: applications catch `SystemError` and make
// their own calls through `syscall`/`retryingEINTR` without a second import.
@_exported import SystemCalls
