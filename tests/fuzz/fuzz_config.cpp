// SPDX-License-Identifier: GPL-3.0-or-later
// The daemon's config file on hostile bytes: parsing either succeeds with entries whose
// lines are in the file, or fails with an error that names what is wrong; applying the
// entries to the options never crashes and reports every rejection.
#include "FuzzCheck.h"
#include "config/ConfigFile.h"
#include "config/DaemonOptions.h"

#include <cstdint>

using namespace greygate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView text(reinterpret_cast<const char *>(data), qsizetype(size));
    ConfigFile file;
    QString error;
    const bool ok = file.parse(text, DaemonOptions::configKeys(), &error);
    if (!ok) {
        FUZZ_CHECK(!error.isEmpty());
        return 0;
    }
    const qsizetype lines = text.count('\n') + 1;
    DaemonOptions options;
    for (const auto &entry : file.entries()) {
        FUZZ_CHECK(entry.line >= 1 && entry.line <= lines);
        FUZZ_CHECK(DaemonOptions::configKeys().contains(entry.key));
        QString applyError;
        if (!options.apply(entry.key, entry.value, true, &applyError))
            FUZZ_CHECK(!applyError.isEmpty());
    }
    return 0;
}
