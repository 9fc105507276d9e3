package main

import (
	"errors"
)

// usageError is a bad command line or configuration: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError carries a specific exit code (1 partial run, 3 findings).
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// exitCode is the exit status of SPEC for what run returned: 2 for usage,
// the code of an exitError, else 1.
func exitCode(err error) int {
	if _, ok := errors.AsType[usageError](err); ok {
		return 2
	}
	if e, ok := errors.AsType[exitError](err); ok {
		return e.code
	}
	return 1
}
