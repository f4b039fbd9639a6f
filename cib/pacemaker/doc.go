// Package pacemaker converts between Pacemaker's CIB (the XML configuration
// of a Pacemaker cluster, "Pacemaker Explained" 2.1) and Paceline's
// configuration model (cib.Config).
//
//	cib.xml ──Parse──▶ *Element tree ──Import──▶ *cib.Config + *Report
//	                                   ▲ id index, id-ref resolution
//	*cib.Config ──Export──▶ <cib><configuration>…</configuration><status/></cib>
//
// Import reads the configuration section only (the status section is read
// by ImportStatus, status*.go). What Paceline does not model is listed in
// a Report, object by object; the import fails unless
// ImportOptions.SkipUnsupported, and either returns a configuration that
// passes cib's validation or an error: nothing is half-imported. Export
// writes a CIB that Pacemaker 2.1.5's crm_verify accepts, and Import reads
// it back to the same configuration. docs/pacemaker.md maps each Pacemaker
// concept to Paceline's and lists the differences.
package pacemaker
