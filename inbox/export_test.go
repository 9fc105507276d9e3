package inbox

import "context"

// ApplyBatchOneByOne applies one batch the way a failing set is redone:
// one event at a time, each in its own savepoint, each decided from what
// the database holds after the event before it. The property test holds
// the set against it.
func (a *Applier) ApplyBatchOneByOne(ctx context.Context) (int, error) {
	claimed, _, _, err := a.applyBatch(ctx, modeOneByOne)
	return claimed, err
}
