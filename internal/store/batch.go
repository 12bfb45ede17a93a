package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Op queues the statements of one write on a batch, with the callbacks that read their results
// (pgx.QueuedQuery). An error means it could not queue them (its input could not be encoded);
// Send then sends nothing.
//
// Stores offer their writes as Ops so that one step's writes in several stores (a message, its
// event, the tokens it used) cost one round trip and one commit instead of one each.
type Op func(b *pgx.Batch) error

// Batcher is what sends a batch: a pool, a connection or a transaction.
type Batcher interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Send runs the ops' statements, in order, in one round trip. Outside a transaction they run
// as one implicit transaction, so either all of them take effect or none does. It returns the
// first error: of queuing (nothing was sent), of a statement or of a callback. Nil ops are
// skipped.
func Send(ctx context.Context, db Batcher, ops ...Op) error {
	b := &pgx.Batch{}
	for _, op := range ops {
		if op == nil {
			continue
		}
		if err := op(b); err != nil {
			return err
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return db.SendBatch(ctx, b).Close()
}

// Exec queues sql with args on b, for a statement whose result is not read; its error says
// what failed.
func Exec(b *pgx.Batch, what, sql string, args ...any) {
	b.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		_, err := br.Exec()
		return Failed(err, what)
	}
}

// Failed says what failed, keeping err for errors.Is and errors.As; nil stays nil. It is for the
// callbacks of queued statements, whose errors Send returns.
func Failed(err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// ForeignKeyViolation reports whether err is Postgres refusing a row whose parent is gone (a
// conversation's message, turn or event after the conversation was deleted).
func ForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503" // foreign_key_violation
}
