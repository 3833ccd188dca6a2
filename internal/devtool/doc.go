// Package devtool holds the logic behind the Mage targets in magefiles/: building the
// binaries, installing the Debian packages the tests need, and running the unit, fuzz and
// end-to-end suites. It lives here, not in magefiles/, so that it can be tested and so the
// targets stay one to five lines each.
package devtool
