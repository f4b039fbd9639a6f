package ocf

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Failure is an error that carries the OCF return code it stands for, so
// an agent's action can return errors and still exit with the right code.
type Failure struct {
	RC  int
	Err error
}

func (f *Failure) Error() string { return f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

// Failf makes a Failure with return code rc.
func Failf(rc int, format string, args ...any) error {
	return &Failure{RC: rc, Err: fmt.Errorf(format, args...)}
}

// RC is an error's return code: Success for nil, a Failure's own code,
// else ErrGeneric.
func RC(err error) int {
	if err == nil {
		return Success
	}
	if f, ok := errors.AsType[*Failure](err); ok {
		return f.RC
	}
	return ErrGeneric
}

// Deadline is when the action must be done: the context's deadline, else
// its timeout from now, else the default timeout.
func (a *Action) Deadline(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	if a.Timeout > 0 {
		return time.Now().Add(a.Timeout)
	}
	return time.Now().Add(DefaultTimeout)
}

// PrintMetaData writes the agent's meta-data to the action's output (the
// meta-data action of an agent called directly; the LRM and Main answer
// it themselves).
func PrintMetaData(a *Action, md *ResourceAgent) int {
	b, err := md.XML()
	if err != nil {
		a.Printf("%v", err)
		return ErrGeneric
	}
	if a.Out != nil {
		_, _ = a.Out.Write(b)
	}
	return Success
}
