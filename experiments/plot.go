package experiments

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/faasflow/faasflow-go/api"
)

// PlotCDF writes a PNG of the cumulative distribution of the measured
// latencies lat (sorted, seconds). When expected is not nil its
// percentiles (min, p50, p90, p95, p99, max) are drawn as a second series
// named expectedLabel.
func PlotCDF(path, title string, lat []float64, expected *Summary, expectedLabel string) error {
	if len(lat) == 0 {
		return fmt.Errorf("latency CDF: no measured request succeeded")
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "end-to-end latency (s)"
	p.Y.Label.Text = "fraction of requests"
	// Headroom above 1 keeps the legend off the curves.
	p.Y.Min, p.Y.Max = 0, 1.3
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.25}, {Value: 0.5, Label: "0.5"},
		{Value: 0.75}, {Value: 0.9, Label: "0.9"}, {Value: 1, Label: "1"}}
	p.Add(plotter.NewGrid())

	pts := make(plotter.XYs, 0, len(lat)+1)
	pts = append(pts, plotter.XY{X: lat[0], Y: 0})
	for i, l := range lat {
		pts = append(pts, plotter.XY{X: l, Y: float64(i+1) / float64(len(lat))})
	}
	line, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("latency CDF: %w", err)
	}
	line.StepStyle = plotter.PostStep
	line.Color = plotutil.Color(0)
	line.Width = vg.Points(1.5)
	p.Add(line)
	p.Legend.Add(fmt.Sprintf("measured (%d requests)", len(lat)), line)

	if expected != nil && expected.Count > 0 {
		ep := plotter.XYs{{X: expected.Min, Y: 0}, {X: expected.P50, Y: 0.5}, {X: expected.P90, Y: 0.9},
			{X: expected.P95, Y: 0.95}, {X: expected.P99, Y: 0.99}, {X: expected.Max, Y: 1}}
		el, es, err := plotter.NewLinePoints(ep)
		if err != nil {
			return fmt.Errorf("latency CDF: expected: %w", err)
		}
		el.Color, es.Color = plotutil.Color(1), plotutil.Color(1)
		el.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(el, es)
		p.Legend.Add(expectedLabel+" (min, p50, p90, p95, p99, max)", el, es)
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs = vg.Points(6)
	if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, path); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// MedianRequest returns the measured, succeeded request with function
// runs whose latency is the median of such requests, or nil.
func MedianRequest(reqs []*Request) *Request {
	var ok []*Request
	for _, r := range reqs {
		if !r.Warmup && r.Status == api.StatusSucceeded && len(r.Logs) > 0 {
			ok = append(ok, r)
		}
	}
	if len(ok) == 0 {
		return nil
	}
	sort.SliceStable(ok, func(i, j int) bool { return ok[i].Latency < ok[j].Latency })
	return ok[min(len(ok)-1, len(ok)/2)]
}

// PlotTimeline writes a PNG Gantt chart of r's function runs: one row per
// run, a bar from its start to its end in seconds since the request was
// fired, one color per function, and a line at the end-to-end latency.
func PlotTimeline(path, title string, r *Request) error {
	if r == nil || len(r.Logs) == 0 {
		return fmt.Errorf("timeline: no request with function runs")
	}
	logs := append([]LogEntry(nil), r.Logs...)
	sort.SliceStable(logs, func(i, j int) bool {
		if logs[i].St != logs[j].St {
			return logs[i].St < logs[j].St
		}
		return logs[i].FunctionName < logs[j].FunctionName
	})
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "time since the request was fired (s)"
	p.Y.Label.Text = "function run"
	p.Add(plotter.NewGrid())

	// One polygon per function, one ring (bar) per run; rows top down.
	var order []string
	rings := map[string][]plotter.XYer{}
	seen := map[string]int{}
	ticks := make([]plot.Tick, 0, len(logs))
	n := len(logs)
	end := r.Latency
	for _, e := range logs {
		end = math.Max(end, e.Ed-r.FireTime)
	}
	for i, e := range logs {
		y := float64(n - i)
		x0, x1 := e.St-r.FireTime, e.Ed-r.FireTime
		if x1-x0 < end/250 {
			x1 = x0 + end/250 // keep a run of under a pixel visible
		}
		if _, ok := rings[e.FunctionName]; !ok {
			order = append(order, e.FunctionName)
		}
		rings[e.FunctionName] = append(rings[e.FunctionName], plotter.XYs{
			{X: x0, Y: y - 0.35}, {X: x1, Y: y - 0.35}, {X: x1, Y: y + 0.35}, {X: x0, Y: y + 0.35}})
		seen[e.FunctionName]++
		label := e.FunctionName
		if count(logs, e.FunctionName) > 1 {
			label = fmt.Sprintf("%s #%d", e.FunctionName, seen[e.FunctionName])
		}
		ticks = append(ticks, plot.Tick{Value: y, Label: label})
	}
	for i, name := range order {
		poly, err := plotter.NewPolygon(rings[name]...)
		if err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
		poly.Color = plotutil.Color(i)
		poly.LineStyle.Width = 0
		p.Add(poly)
		p.Legend.Add(name, poly)
	}
	lat, err := plotter.NewLine(plotter.XYs{{X: r.Latency, Y: 0.4}, {X: r.Latency, Y: float64(n) + 0.6}})
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	lat.Color = color.Black
	lat.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(lat)
	p.Legend.Add(fmt.Sprintf("end-to-end latency %.3f s", r.Latency), lat)
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	// Headroom above the first row keeps the legend off the bars.
	p.Y.Min, p.Y.Max = 0.4, float64(n)+0.6+0.9*float64(len(order)+1)
	p.X.Min, p.X.Max = 0, end*1.05
	p.Legend.Top = true
	height := math.Max(9, 3.5+0.55*(float64(n)+0.9*float64(len(order)+1)))
	if err := p.Save(16*vg.Centimeter, vg.Length(height)*vg.Centimeter, path); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

func count(logs []LogEntry, name string) int {
	n := 0
	for _, e := range logs {
		if e.FunctionName == name {
			n++
		}
	}
	return n
}
