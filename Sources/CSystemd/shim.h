#ifndef PREFORK_CSYSTEMD_H
#define PREFORK_CSYSTEMD_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif
