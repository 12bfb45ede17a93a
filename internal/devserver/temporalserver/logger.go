package temporalserver

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// levelSilent is above every real level: a logging.AtLeast handler set to it drops
// everything. Stop uses it for the goroutines the server leaves behind.
const levelSilent = slog.Level(1 << 20)

// serverLogger adapts an *slog.Logger to the Temporal server's log.Logger
// interface. Tags become slog attributes; the source location points at the
// Temporal code that logged.
type serverLogger struct {
	l *slog.Logger
}

var (
	_ log.Logger     = serverLogger{}
	_ log.WithLogger = serverLogger{}
)

func (s serverLogger) Debug(msg string, tags ...tag.Tag) { s.log(slog.LevelDebug, msg, tags) }
func (s serverLogger) Info(msg string, tags ...tag.Tag)  { s.log(slog.LevelInfo, msg, tags) }
func (s serverLogger) Warn(msg string, tags ...tag.Tag)  { s.log(slog.LevelWarn, msg, tags) }
func (s serverLogger) Error(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

// DPanic logs at error level; the Temporal server only panics on DPanic in
// development builds of its own logger.
func (s serverLogger) DPanic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

// Panic logs at error level and panics, like the server's zap logger.
func (s serverLogger) Panic(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	panic(msg)
}

// Fatal logs at error level and panics. The server's own logger would exit
// the process; a panic keeps the stack trace and lets Start turn fatal errors
// raised while building or starting the server into an error.
func (s serverLogger) Fatal(msg string, tags ...tag.Tag) {
	s.log(slog.LevelError, msg, tags)
	panic("temporal server fatal: " + msg)
}

func (s serverLogger) With(tags ...tag.Tag) log.Logger {
	if len(tags) == 0 {
		return s
	}
	return serverLogger{l: slog.New(s.l.Handler().WithAttrs(tagsToAttrs(tags)))}
}

// demoted lists server warnings that are expected in this setup and logged
// at Info instead.
var demoted = []string{
	// The frontend HTTP API (Nexus, HTTP/JSON) is deliberately not enabled.
	"HTTP API port has not been set",
}

func (s serverLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	if level == slog.LevelWarn {
		for _, prefix := range demoted {
			if strings.HasPrefix(msg, prefix) {
				level = slog.LevelInfo
			}
		}
	}
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
		return
	}
	var pcs [1]uintptr
	runtime.Callers(3, pcs[:]) // skip runtime.Callers, log and the level method
	r := slog.NewRecord(time.Now(), level, msg, pcs[0])
	r.AddAttrs(tagsToAttrs(tags)...)
	_ = s.l.Handler().Handle(ctx, r)
}

func tagsToAttrs(tags []tag.Tag) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(tags))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), tagValue(t.Value())))
	}
	return attrs
}

// tagValue renders errors as their message (fmt.Sprint survives typed nil
// errors); other values are left for the slog handler to format.
func tagValue(v any) any {
	if err, ok := v.(error); ok {
		return fmt.Sprint(err)
	}
	return v
}
