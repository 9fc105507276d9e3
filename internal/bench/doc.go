// Package bench is what the benchmark commands (cmd/webhookload,
// cmd/reconcilebench) share around their measurements: main's exit codes
// and flag parsing, CPU readings that tell this process, PostgreSQL and
// the machine's other tenants apart, waiting for a quiet machine, and
// memory figures from /proc. Their throwaway databases come from
// internal/benchdb.
//
// It reads Linux's /proc; elsewhere the readings come back empty and the
// commands print what they could not measure as such.
package bench
