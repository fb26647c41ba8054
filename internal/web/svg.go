package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/store"
)

// plot is the geometry of a score line, computed here so the templates
// only place numbers into SVG attributes: html/template escapes them like
// any other value, and no markup is built from strings.
type plot struct {
	Width, Height int
	// Points is the polyline's points attribute ("x,y x,y ...").
	Points string
	Dots   []dot
	// Last is the newest point, marked on sparklines; nil when empty.
	Last *dot
	// Grid holds the y of the 0, 50 and 100 score lines.
	Grid []gridLine
}

type dot struct {
	X, Y   float64
	Score  int
	Grade  string
	At     time.Time
	ScanID int64
}

type gridLine struct {
	Y     float64
	Label int
}

// scoreChart lays out a target's score history (oldest first) for the
// target page's chart.
func scoreChart(h []store.ScorePoint) plot {
	p := layout(h, 640, 200, 36, 12)
	for _, s := range []int{0, 50, 100} {
		p.Grid = append(p.Grid, gridLine{Y: yFor(s, 200, 12), Label: s})
	}
	return p
}

// sparkline lays out the same history as a small trend line for lists.
func sparkline(h []store.ScorePoint) plot { return layout(h, 120, 28, 2, 3) }

func layout(h []store.ScorePoint, width, height, left, pad int) plot {
	p := plot{Width: width, Height: height}
	inner := float64(width - left - pad)
	var pts []string
	for i, sp := range h {
		x := float64(left) + inner/2
		if len(h) > 1 {
			x = float64(left) + inner*float64(i)/float64(len(h)-1)
		}
		y := yFor(sp.Score, height, pad)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		p.Dots = append(p.Dots, dot{X: x, Y: y, Score: sp.Score, Grade: sp.Grade, At: sp.At, ScanID: sp.ScanID})
	}
	p.Points = strings.Join(pts, " ")
	if len(p.Dots) > 0 {
		p.Last = &p.Dots[len(p.Dots)-1]
	}
	return p
}

// yFor maps a 0..100 score onto the plot, 100 at the top.
func yFor(score, height, pad int) float64 {
	score = min(max(score, 0), 100)
	return float64(pad) + float64(height-2*pad)*float64(100-score)/100
}
