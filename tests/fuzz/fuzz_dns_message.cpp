// SPDX-License-Identifier: GPL-3.0-or-later
// DNS answers on hostile bytes (what any host that can reach our UDP port may send).
// Properties: parsing is deterministic and bounded (records, name lengths), every decoded
// name is one that could be asked again, and a parsed question builds a query that parses
// back to the same question.
#include "FuzzCheck.h"
#include "dns/DnsMessage.h"

#include <cstdint>

using namespace greygate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    QByteArray error;
    const std::optional<DnsMessage> m = DnsMessage::parse(bytes, &error);
    const std::optional<DnsMessage> again = DnsMessage::parse(bytes);
    FUZZ_CHECK(m.has_value() == again.has_value());
    if (!m) {
        FUZZ_CHECK(!error.isEmpty());
        return 0;
    }
    FUZZ_CHECK(m->answers.size() <= DnsMessage::kMaxRecords);
    FUZZ_CHECK(m->answers.size() == again->answers.size());
    for (const DnsRecord &rec : m->answers) {
        FUZZ_CHECK(rec.name.isEmpty() || DnsMessage::isValidName(rec.name));
        FUZZ_CHECK(rec.target.isEmpty() || DnsMessage::isValidName(rec.target));
        FUZZ_CHECK(rec.ttl <= 0x7fffffffu);
        FUZZ_CHECK(rec.text.size() <= bytes.size());
    }
    for (const DnsType type : {DnsType::A, DnsType::AAAA, DnsType::MX, DnsType::PTR, DnsType::TXT})
        FUZZ_CHECK(m->recordsFor(m->questionName, type).size() <= m->answers.size());
    if (!m->questionName.isEmpty()) {
        FUZZ_CHECK(DnsMessage::isValidName(m->questionName));
        const std::optional<QByteArray> q =
            DnsMessage::query(m->id, m->questionName, DnsType(m->questionType));
        FUZZ_CHECK(q.has_value());
        const std::optional<DnsMessage> back = DnsMessage::parse(*q);
        FUZZ_CHECK(back && back->questionName == m->questionName && back->id == m->id &&
                   back->questionType == m->questionType && !back->response);
    }
    return 0;
}
