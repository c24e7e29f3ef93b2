package montest

// FindingsService is the passive service that "dotm report --submit"
// sends results for, on every host of the test configurations.
const FindingsService = "dotm findings"

// NagiosPassive defines FindingsService on the 4 hosts, for StartNagios,
// as the README does: passive checks only, pending before the first
// result, UNKNOWN when none came for 30 minutes (freshness). It is an
// extra object file rather than part of nagios4/objects, so that the
// other tests keep their 18 services.
const NagiosPassive = `define service {
    use                     generic-service
    host_name               web01,app01,db01,cache01
    service_description     dotm findings
    active_checks_enabled   0
    passive_checks_enabled  1
    check_freshness         1
    freshness_threshold     1800
    check_command           check_dummy!3!no result from dotm report --submit for 30 minutes
}
`

// Icinga2Passive defines FindingsService on every host, for StartIcinga2,
// as the README does: results come passively; the dummy check runs (says
// UNKNOWN) only when none came for check_interval, Icinga 2's way of
// checking freshness.
const Icinga2Passive = `apply Service "dotm findings" {
  import "generic-service"
  check_command = "dummy"
  vars.dummy_state = 3
  vars.dummy_text = "no result from dotm report --submit for 30 minutes"
  check_interval = 30m
  retry_interval = 30m
  enable_passive_checks = true
  assign where host.address
}
`
