// SPDX-License-Identifier: GPL-3.0-or-later
// The Postfix policy request parser on hostile bytes. Property: feeding the input whole or
// one byte at a time yields the same requests and the same outcome, and never more bytes
// per request than the limits allow.
#include "FuzzCheck.h"
#include "policyd/PolicyRequestParser.h"

#include <QList>
#include <cstdint>

using namespace greygate;

namespace {

struct Outcome
{
    QList<QByteArray> requests; // the fields that matter, flattened
    bool failed = false;
};

QByteArray flatten(const PolicyRequest &r)
{
    return r.request + '|' + r.protocolState + '|' + r.clientAddress + '|' + r.sender + '|' +
           r.recipient + '|' + r.instance;
}

Outcome parse(QByteArrayView input, qsizetype chunk)
{
    PolicyRequestParser::Limits limits;
    limits.maxLineBytes = 512;
    limits.maxRequestBytes = 4096;
    limits.maxAttributes = 32;
    PolicyRequestParser parser(limits);
    Outcome out;
    for (qsizetype at = 0; at < input.size() && !out.failed; at += chunk) {
        QByteArrayView piece = input.sliced(at, qMin(chunk, input.size() - at));
        while (!out.failed) {
            const auto status = parser.next(piece);
            if (status == PolicyRequestParser::Status::Request) {
                FUZZ_CHECK(flatten(parser.request()).size() <= limits.maxRequestBytes + 8);
                out.requests.append(flatten(parser.request()));
            } else if (status == PolicyRequestParser::Status::Error) {
                FUZZ_CHECK(!parser.errorString().isEmpty());
                out.failed = true;
            } else {
                FUZZ_CHECK(piece.isEmpty());
                break;
            }
        }
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const Outcome whole = parse(input, qMax<qsizetype>(1, input.size()));
    const Outcome bytewise = parse(input, 1);
    FUZZ_CHECK(whole.failed == bytewise.failed);
    FUZZ_CHECK(whole.requests == bytewise.requests);
    return 0;
}
