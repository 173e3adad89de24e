// SPDX-License-Identifier: GPL-3.0-or-later
// The metrics port's HTTP request head parser on hostile bytes. Properties: feeding the
// input whole, one byte at a time or in odd pieces gives the same outcome (status, method,
// target, error status); a refusal carries a 4xx/5xx status and a reason; an accepted head
// has a token method, a target starting with '/' and HTTP/1.0 or 1.1; nothing accepted is
// longer than the bound.
#include "FuzzCheck.h"
#include "control/HttpRequestParser.h"

#include <cstdint>

using namespace greygate;

namespace {

struct Outcome
{
    HttpRequestParser::Status status = HttpRequestParser::Status::NeedMore;
    QByteArray method;
    QByteArray target;
    int errorStatus = 0;

    friend bool operator==(const Outcome &, const Outcome &) = default;
};

Outcome parse(QByteArrayView input, qsizetype chunk)
{
    HttpRequestParser parser;
    Outcome out;
    for (qsizetype at = 0; at < input.size(); at += chunk)
        out.status = parser.feed(input.sliced(at, qMin(chunk, input.size() - at)));
    out.status = parser.status();
    if (out.status == HttpRequestParser::Status::Complete) {
        out.method = parser.method();
        out.target = parser.target();
        FUZZ_CHECK(!out.method.isEmpty());
        FUZZ_CHECK(out.method.size() <= HttpRequestParser::kMaxMethodBytes);
        FUZZ_CHECK(out.target.startsWith('/'));
        FUZZ_CHECK(out.target.size() < HttpRequestParser::kMaxHeadBytes);
        FUZZ_CHECK(parser.version() == "HTTP/1.1" || parser.version() == "HTTP/1.0");
        FUZZ_CHECK(parser.path().size() <= out.target.size());
    } else if (out.status == HttpRequestParser::Status::Error) {
        out.errorStatus = parser.errorStatus();
        FUZZ_CHECK(out.errorStatus >= 400 && out.errorStatus < 600);
        FUZZ_CHECK(!parser.errorString().isEmpty());
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const Outcome whole = parse(input, qMax<qsizetype>(1, input.size()));
    FUZZ_CHECK(parse(input, 1) == whole);
    FUZZ_CHECK(parse(input, 13) == whole);
    return 0;
}
