// Package html renders a stats.Report as one self-contained HTML page: inline CSS, charts
// drawn as inline SVG by Go; no script.
// The page loads nothing from the network.
//
//	f, _ := os.Create("report.html")
//	err := html.Write(f, s.Report())
package html
