package alert

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// Config is everything alerting needs. Zero values take the defaults of
// NewNotifier and NewDispatcher; Interval defaults to 10s.
type Config struct {
	Notifier   NotifierConfig // its Sinks are filled from the dispatcher's
	Dispatcher DispatcherConfig
	// Interval is how often Run sweeps findings and delivers the outbox.
	Interval time.Duration
}

// Service runs a Notifier and a Dispatcher on one schedule.
type Service struct {
	Notifier   *Notifier
	Dispatcher *Dispatcher
	log        *logrus.Entry
	interval   time.Duration
	kick       chan struct{}
}

// New builds the dispatcher for the configured sinks and a notifier
// writing alerts for those sinks. m may be nil.
func New(store *models.Store, log *logrus.Entry, m *metrics.Alerts, cfg Config) (*Service, error) {
	d, err := NewDispatcher(store, log, m, cfg.Dispatcher)
	if err != nil {
		return nil, err
	}
	cfg.Notifier.Sinks = d.Sinks()
	if cfg.Interval < 0 {
		return nil, errors.New("alert: Interval is negative")
	}
	n, err := NewNotifier(store, log, cfg.Notifier)
	if err != nil {
		return nil, err
	}
	return &Service{
		Notifier: n, Dispatcher: d, log: log,
		interval: cmp.Or(cfg.Interval, 10*time.Second), kick: make(chan struct{}, 1),
	}, nil
}

// Kick asks Run for a sweep and a delivery pass now, say after a
// reconciliation run; it never blocks.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run sweeps and delivers every interval, and when kicked, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	s.log.WithField("sinks", s.Dispatcher.Sinks()).Info("alerting started")
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		s.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// Tick is one sweep and one delivery pass, each bounded in time.
func (s *Service) Tick(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	_, err := s.Notifier.Sweep(sctx)
	cancel()
	if err != nil && ctx.Err() == nil {
		s.log.WithError(err).Warn("sweep findings for alerts")
	}
	dctx, cancel := context.WithTimeout(ctx, s.Dispatcher.lease())
	defer cancel()
	if _, err := s.Dispatcher.DispatchOnce(dctx); err != nil && ctx.Err() == nil {
		s.log.WithError(err).Warn("deliver alerts")
	}
}
