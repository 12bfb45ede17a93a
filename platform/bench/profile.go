package bench

import (
	"bytes"
	"fmt"
	"io"
	"runtime/pprof"

	"github.com/google/pprof/profile"
)

// sideProfiler records a CPU profile of this process during each round of one side (the
// platform's rounds, the floor's) and merges the rounds of a side into one profile, so that
// the two can be compared (go tool pprof -diff_base floor.pprof platform.pprof) and each
// divided by the operations its side completed.
type sideProfiler struct {
	// out receives each side's merged profile; a side without a writer is not profiled.
	out    map[string]io.Writer
	rounds map[string][]*profile.Profile
	err    error
}

// The sides of a comparison.
const (
	sidePlatform = "platform"
	sideFloor    = "floor"
)

func newSideProfiler(platform, floor io.Writer) *sideProfiler {
	p := &sideProfiler{out: map[string]io.Writer{}, rounds: map[string][]*profile.Profile{}}
	if platform != nil {
		p.out[sidePlatform] = platform
	}
	if floor != nil {
		p.out[sideFloor] = floor
	}
	return p
}

// round runs fn, profiled when side has a writer. A profiler that cannot start (another
// profile runs) records the error and runs fn unprofiled.
func (p *sideProfiler) round(side string, fn func()) {
	if p == nil || p.out[side] == nil || p.err != nil {
		fn()
		return
	}
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		p.err = fmt.Errorf("bench: start the CPU profile: %w", err)
		fn()
		return
	}
	fn()
	pprof.StopCPUProfile()
	prof, err := profile.Parse(&buf)
	if err != nil {
		p.err = fmt.Errorf("bench: read the %s round's CPU profile: %w", side, err)
		return
	}
	p.rounds[side] = append(p.rounds[side], prof)
}

// write merges each side's rounds and writes them out.
func (p *sideProfiler) write() error {
	if p == nil {
		return nil
	}
	if p.err != nil {
		return p.err
	}
	for side, w := range p.out {
		if len(p.rounds[side]) == 0 {
			continue
		}
		merged, err := profile.Merge(p.rounds[side])
		if err != nil {
			return fmt.Errorf("bench: merge the %s rounds' CPU profiles: %w", side, err)
		}
		if err := merged.Write(w); err != nil {
			return fmt.Errorf("bench: write the %s CPU profile: %w", side, err)
		}
	}
	return nil
}
