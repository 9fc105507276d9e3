package webhook

import (
	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// Pipeline is ingestion wired together: the endpoint hands events to the
// committer, whose commits wake the applier.
type Pipeline struct {
	Handler   *Handler
	Committer *Committer
	Applier   *inbox.Applier
}

// PipelineConfig gathers the parts' configurations.
type PipelineConfig struct {
	Handler   HandlerConfig
	Committer CommitterConfig
	Applier   inbox.ApplierConfig
}

// NewPipeline builds the three parts. The committer's workers start now;
// run the applier with Applier.Run and stop the committer with
// Committer.Close once the HTTP server no longer hands it requests.
//
// Unset worker counts follow the database. PostgreSQL: two commits in
// flight (one gathers while the other waits on the disk) and two appliers
// (one decides while the other waits on a round trip); they keep two cores
// busy without contending, since SKIP LOCKED gives each applier its own
// events. SQLite has one writer connection, so one committer, whose batch
// is then everything that arrived during the last commit, and one applier.
func NewPipeline(store *models.Store, logger *logrus.Logger, m *metrics.Metrics, cfg PipelineConfig) (*Pipeline, error) {
	if cfg.Committer.Workers == 0 {
		cfg.Committer.Workers = byDialect(store, 2, 1)
	}
	if cfg.Applier.Workers == 0 {
		cfg.Applier.Workers = byDialect(store, 2, 1)
	}
	applier, err := inbox.NewApplier(store, logger.WithField("component", "applier"), m, cfg.Applier)
	if err != nil {
		return nil, err
	}
	handler, err := NewHandler(nil, m, logger.WithField("component", "webhook"), cfg.Handler)
	if err != nil {
		return nil, err
	}
	committer, err := NewCommitter(store, logger.WithField("component", "committer"), m, cfg.Committer, applier.Stored)
	if err != nil {
		return nil, err
	}
	handler.committer = committer
	return &Pipeline{Handler: handler, Committer: committer, Applier: applier}, nil
}

func byDialect(store *models.Store, postgres, sqlite int) int {
	if store.Dialect() == models.DialectPostgres {
		return postgres
	}
	return sqlite
}
