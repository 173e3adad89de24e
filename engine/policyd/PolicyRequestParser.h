// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "PolicyRequest.h"

#include <QByteArray>
#include <QByteArrayView>

namespace greygate {

// Incremental parser of Postfix's policy delegation protocol: `name=value` lines ending in
// '\n', an empty line ends a request, any number of requests per connection, bytes arriving
// in any split. Everything it reads is hostile: lines, requests and attribute counts are
// bounded, and NULs or other control bytes, lines without '=' and over-long input are a
// protocol error with a message that says what was wrong. No regex, no QString: values are
// copied once into the reused PolicyRequest, whose buffers keep their capacity.
class PolicyRequestParser
{
public:
    struct Limits
    {
        qsizetype maxLineBytes = 8 * 1024;     // one attribute line, '\n' excluded
        qsizetype maxRequestBytes = 64 * 1024; // one request, every line included
        int maxAttributes = 256;
    };

    enum class Status
    {
        NeedMore, // everything given was consumed; no complete request yet
        Request,  // request() holds a complete request; call next() again for the rest
        Error,    // errorString() says why; the parser stays failed
    };

    PolicyRequestParser() = default;
    explicit PolicyRequestParser(const Limits &limits)
        : m_limits(limits)
    {}

    // Consumes bytes from the front of `data` until a request completes, an error occurs or
    // `data` is used up. A partial line is kept inside the parser until its end arrives.
    Status next(QByteArrayView &data);

    const PolicyRequest &request() const { return m_request; }
    const QByteArray &errorString() const { return m_error; }
    bool failed() const { return !m_error.isEmpty(); }
    // True while a request has begun (some of its bytes arrived) but has not ended.
    bool inRequest() const { return m_requestBytes > 0; }
    const Limits &limits() const { return m_limits; }

private:
    // clean: the caller already knows the line holds no control byte.
    Status line(QByteArrayView line, bool clean = false);
    enum class LineError : quint8
    {
        TooLong,
        RequestTooLong,
        EmptyFirst,
        NoEquals,
        EmptyName,
        TooManyAttributes,
    };
    // The protocol errors, built apart from line() so that its good path stays small.
    [[gnu::cold, gnu::noinline]] Status lineError(LineError kind);
    [[gnu::cold, gnu::noinline]] Status controlByteError(QByteArrayView text);
    Status fail(QByteArray message);
    void startRequest();
    void clearAbsent();

    Limits m_limits;
    PolicyRequest m_request;
    QByteArray m_partial; // the start of a line whose '\n' has not arrived yet
    QByteArray m_error;
    qsizetype m_requestBytes = 0;
    int m_lineInRequest = 0;
    bool m_resetPending = true; // clear the fields before the next request's first line
};

} // namespace greygate
