package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// defaultReplayStates are what payoutd replay takes without --state: the
// events that did not apply, which a fix may now let apply.
const defaultReplayStates = "parked,unprocessable"

// replayFlags are payoutd replay's own flags.
type replayFlags struct {
	state, from, to string
}

func (f *replayFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.state, "state", defaultReplayStates,
		"states of the stored webhooks to replay, comma-separated (applied, pending, parked, ignored, unprocessable), or all")
	fs.StringVar(&f.from, "from", "", "replay webhooks received at or after this UTC date (YYYY-MM-DD) or RFC 3339 time")
	fs.StringVar(&f.to, "to", "", "replay webhooks received before this UTC date (YYYY-MM-DD) or RFC 3339 time")
}

// filter checks the flags' values into a filter; a bad one is a usage
// error naming it.
func (f *replayFlags) filter() (models.InboxFilter, error) {
	var out models.InboxFilter
	if f.state != "all" {
		for s := range strings.SplitSeq(f.state, ",") {
			s = strings.TrimSpace(s)
			if !models.InboxStatusValid(s) {
				return out, usageError{fmt.Sprintf("invalid value %q for flag -state: want applied, pending, parked, ignored, unprocessable (comma-separated) or all; %s", f.state, usage())}
			}
			out.Statuses = append(out.Statuses, models.InboxStatus(s))
		}
	}
	var err error
	if out.From, err = replayTime("from", f.from); err != nil {
		return out, err
	}
	if out.To, err = replayTime("to", f.to); err != nil {
		return out, err
	}
	if !out.From.IsZero() && !out.To.IsZero() && !out.From.Before(out.To) {
		return out, usageError{"invalid value for flag -to: must be after -from (to is excluded); " + usage()}
	}
	return out, nil
}

func replayTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, usageError{fmt.Sprintf("invalid value %q for flag -%s: want a date like 2025-06-01 or an RFC 3339 time; %s", s, name, usage())}
}

// replayCommand applies stored webhooks again: inbox.Applier.Replay for
// each one selected, oldest first.
func replayCommand(fs *flag.FlagSet) action {
	var f replayFlags
	f.register(fs)
	return func(ctx context.Context, e env) error {
		filter, err := f.filter()
		if err != nil {
			return err
		}
		store, _, err := openMigrated(ctx, e.cfg)
		if err != nil {
			return err
		}
		defer store.Close()
		applier, err := inbox.NewApplier(store, e.log.WithField("component", "replay"), metrics.New(),
			inbox.ApplierConfig{MaxAttempts: e.cfg.Applier.MaxAttempts})
		if err != nil {
			return err
		}
		by := "cli"
		if u := e.getenv("USER"); u != "" {
			by += ":" + u
		}
		return replayEvents(ctx, store, applier, filter, by, e.stdout)
	}
}

// replayEvents replays what filter selects and prints, per event, its id,
// type, the state it was in and the replay's outcome, then the totals. A
// replay that fails (the database) stops the run: exit 1, after what was
// done so far is printed.
func replayEvents(ctx context.Context, store *models.Store, applier *inbox.Applier, filter models.InboxFilter, by string, out io.Writer) error {
	totals := map[string]int{}
	n := 0
	err := store.InboxEachID(ctx, filter, func(id int64) error {
		ev, err := store.InboxGet(ctx, id)
		if err != nil {
			return err
		}
		r, err := applier.Replay(ctx, id, by)
		if err != nil {
			return err
		}
		n++
		totals[*r.Outcome]++
		fmt.Fprintf(out, "event %d  %-18s %-13s -> %s\n", id, ev.EventType, ev.Status, *r.Outcome)
		return nil
	})
	fmt.Fprintf(out, "replayed %d events", n)
	for _, k := range slices.Sorted(maps.Keys(totals)) {
		fmt.Fprintf(out, ", %s %d", k, totals[k])
	}
	fmt.Fprintln(out)
	if err != nil {
		return fmt.Errorf("replay stopped: %w", err)
	}
	return nil
}
