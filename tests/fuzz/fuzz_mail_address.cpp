// SPDX-License-Identifier: GPL-3.0-or-later
// Mail addresses on hostile bytes: the hot path's allocation-free lowering (every MAIL FROM
// and RCPT TO a client or Postfix sends) and the model's validation (policy specifiers,
// group members, the control API). Properties: a usable lowered address fits its buffer,
// holds no upper-case ASCII, control byte or space, and its domain is what follows the last
// '@'; lowering is idempotent; domain tests agree with each other; an address the model
// accepts is usable on the hot path with the same domain, and normalising is idempotent.
#include "FuzzCheck.h"
#include "policy/MailAddress.h"

#include <QString>
#include <cstdint>

using namespace greygate;

namespace {

void checkLowered(QByteArrayView raw)
{
    const MailAddress::Lowered lowered(raw);
    if (!lowered.valid())
        return;
    const QByteArrayView address = lowered.address();
    FUZZ_CHECK(address.size() <= MailAddress::kMaxAddress);
    for (const char c : address) {
        FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
        FUZZ_CHECK(uchar(c) >= 0x20 && c != 0x7f && c != ' ');
    }
    FUZZ_CHECK(!lowered.domain().contains('@'));
    FUZZ_CHECK(lowered.domain().size() <= address.size());
    FUZZ_CHECK(lowered.isNull() == address.isEmpty());
    FUZZ_CHECK(lowered.addressKey() == address && lowered.domainKey() == lowered.domain());
    // "<<a>>" loses one pair of brackets per pass: idempotent only without them.
    if (!(address.size() >= 2 && address.front() == '<' && address.back() == '>')) {
        const MailAddress::Lowered again(address);
        FUZZ_CHECK(again.valid() && again.address() == address);
    }
    const QByteArrayView domain = lowered.domain();
    FUZZ_CHECK(MailAddress::domainWithin(domain, domain));
    FUZZ_CHECK(!MailAddress::strictSubdomain(domain, domain));
    const qsizetype dot = domain.indexOf('.');
    if (dot >= 0 && dot + 1 < domain.size()) {
        const QByteArrayView parent = domain.sliced(dot + 1);
        FUZZ_CHECK(MailAddress::strictSubdomain(domain, parent));
        FUZZ_CHECK(!MailAddress::domainWithin(parent, domain));
    }
}

void checkModel(const QString &text)
{
    const QString normal = MailAddress::normalise(text);
    FUZZ_CHECK(MailAddress::normalise(normal) == normal);
    const QString problem = MailAddress::addressProblem(normal);
    if (!problem.isEmpty())
        return;
    const QByteArray utf8 = normal.toUtf8();
    const MailAddress::Lowered lowered(utf8);
    FUZZ_CHECK(lowered.valid());
    const QString domain = normal.sliced(normal.lastIndexOf(u'@') + 1);
    FUZZ_CHECK(MailAddress::domainProblem(domain).isEmpty());
    FUZZ_CHECK(MailAddress::labelCount(domain) >= 1);
    FUZZ_CHECK(lowered.domain() == domain.toUtf8());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    checkLowered(bytes);
    checkModel(QString::fromUtf8(bytes));
    return 0;
}
