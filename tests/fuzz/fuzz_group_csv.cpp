// SPDX-License-Identifier: GPL-3.0-or-later
// Sender group CSV imports on hostile bytes. Property: accepted input writes out to CSV that
// parses again to the same members.
#include "FuzzCheck.h"
#include "policy/GroupMemberCsv.h"

#include <cstdint>

using namespace greygate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QString error;
    const auto members = GroupMemberCsv::parse(
        QByteArrayView(reinterpret_cast<const char *>(data), qsizetype(size)), &error);
    if (!members) {
        FUZZ_CHECK(!error.isEmpty());
        return 0;
    }
    const QByteArray written = GroupMemberCsv::write(*members);
    QString again;
    const auto reparsed = GroupMemberCsv::parse(written, &again);
    FUZZ_CHECK(reparsed.has_value());
    FUZZ_CHECK(GroupMemberCsv::write(*reparsed) == written);
    return 0;
}
