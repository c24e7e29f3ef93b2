package montest

// FindingsService is the passive service that "dotm report --submit"
// sends results for, on every host of the test configurations.
const FindingsService = "dotm findings"

// NagiosPassive defines FindingsService on the 4 hosts, for StartNagios:
// passive checks only; before the first result it stays pending. It is an
// extra object file rather than part of nagios4/objects, so that the
// other tests keep their 18 services.
const NagiosPassive = `define service {
    use                     generic-service
    host_name               web01,app01,db01,cache01
    service_description     dotm findings
    check_command           check_dummy!3!no result from dotm report --submit yet
    active_checks_enabled   0
    passive_checks_enabled  1
}
`

// Icinga2Passive defines FindingsService on every host, for StartIcinga2:
// passive checks only (the dummy command answers a forced check).
const Icinga2Passive = `apply Service "dotm findings" {
  import "generic-service"
  check_command = "dummy"
  vars.dummy_state = 3
  vars.dummy_text = "no result from dotm report --submit yet"
  enable_active_checks = false
  enable_passive_checks = true
  assign where host.address
}
`
