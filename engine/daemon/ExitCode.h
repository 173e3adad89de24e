// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

namespace greygate {

// greygated's exit codes (documented in --help and docs/greygated.md), so init systems and
// scripts can tell a configuration mistake from an environment problem.
enum ExitCode : int
{
    ExitOk = 0,           // clean shutdown (SIGTERM/SIGINT), --help, --version
    ExitRuntimeError = 1, // failed while running (e.g. could not write the pid file)
    ExitUsage = 2,        // bad command line or configuration file
    ExitStore = 3,        // the database could not be opened or loaded
    ExitListen = 4,       // the listening socket could not be opened (port in use, ...)
};

} // namespace greygate
