// SPDX-License-Identifier: GPL-3.0-or-later
#include "EventBinary.h"

#include "events/Event.h"
#include "protocol/BinaryEvents.h"

#include <cstring>

namespace greygate {

using protocol::BinaryEvents;

namespace {

void triplet(QByteArray *out, const Event &e)
{
    BinaryEvents::appendBytes(out, e.client);
    BinaryEvents::appendBytes(out, e.sender);
    BinaryEvents::appendBytes(out, e.recipient);
}

quint32 smtpFlags(const Event &e)
{
    if (e.source != EventSource::Smtp)
        return 0;
    return BinaryEvents::Smtp | (e.tls ? BinaryEvents::Tls : 0) |
           (e.helo.isEmpty() ? 0 : BinaryEvents::HasHelo);
}

void attempt(QByteArray *out, const Event &e)
{
    // The object form's optional fields, each present exactly when toJson writes it.
    const quint32 flags = (e.ref != 0 ? BinaryEvents::HasRef : 0) |
                          (e.action.isEmpty() ? 0 : BinaryEvents::HasReason) |
                          (e.shadow != ShadowEffect::None ? BinaryEvents::HasShadow : 0) |
                          (e.key.isEmpty() ? 0 : BinaryEvents::HasKey) |
                          (e.keyWhy.isEmpty() ? 0 : BinaryEvents::HasKeyWhy) | smtpFlags(e);
    BinaryEvents::appendVarint(out, flags);
    const char fixed[] = {char(e.outcome), char(e.decidedBy)};
    out->append(fixed, sizeof fixed);
    BinaryEvents::appendVarint(out, e.attempts);
    if (flags & BinaryEvents::HasRef)
        BinaryEvents::appendSigned(out, e.ref);
    if (flags & BinaryEvents::HasReason)
        BinaryEvents::appendText(out, e.action);
    if (flags & BinaryEvents::HasShadow) {
        BinaryEvents::appendSigned(out, e.shadowPolicy);
        out->append(char(e.shadow));
    }
    if (flags & BinaryEvents::HasKey)
        BinaryEvents::appendBytes(out, e.key);
    if (flags & BinaryEvents::HasKeyWhy)
        BinaryEvents::appendBytes(out, e.keyWhy);
    if (flags & BinaryEvents::HasHelo)
        BinaryEvents::appendBytes(out, e.helo);
    triplet(out, e);
}

void body(QByteArray *out, const Event &e)
{
    out->append(char(e.type));
    BinaryEvents::appendSigned(out, e.time);
    switch (e.type) {
    case EventType::Attempt:
        attempt(out, e);
        break;
    case EventType::QueueChange:
        triplet(out, e);
        BinaryEvents::appendText(out, e.action);
        BinaryEvents::appendText(out, e.who);
        break;
    case EventType::FailedToRetry:
        triplet(out, e);
        BinaryEvents::appendVarint(out, e.attempts);
        break;
    case EventType::PolicyChange:
    case EventType::GroupChange:
    case EventType::AutoAllowChange:
        BinaryEvents::appendText(out, e.subject);
        BinaryEvents::appendText(out, e.action);
        BinaryEvents::appendText(out, e.who);
        BinaryEvents::appendSigned(out, e.ref);
        break;
    case EventType::Message: {
        const quint32 flags = smtpFlags(e);
        BinaryEvents::appendVarint(out, flags);
        if (flags & BinaryEvents::HasHelo)
            BinaryEvents::appendBytes(out, e.helo);
        triplet(out, e);
        BinaryEvents::appendVarint(out, e.attempts);
        BinaryEvents::appendSigned(out, e.bytes);
        BinaryEvents::appendBytes(out, e.reply);
        break;
    }
    case EventType::Alert:
        BinaryEvents::appendText(out, e.subject);
        BinaryEvents::appendBytes(out, e.client);
        BinaryEvents::appendText(out, e.action);
        BinaryEvents::appendSigned(out, e.ref);
        out->append(char(e.attempts != 0));
        break;
    case EventType::PoolRetry:
        BinaryEvents::appendText(out, e.subject);
        BinaryEvents::appendBytes(out, e.sender);
        BinaryEvents::appendBytes(out, e.recipient);
        BinaryEvents::appendBytes(out, e.client); // the addresses, comma-separated
        BinaryEvents::appendVarint(out, e.attempts);
        BinaryEvents::appendSigned(out, e.ref);
        BinaryEvents::appendText(out, e.action);
        break;
    }
}

} // namespace

void EventBinary::append(QByteArray *out, const Event &e)
{
    // The length goes first but is known last: one byte is kept for it, enough for most
    // attempts (under 128 bytes); a longer body is moved up by the extra length bytes.
    const qsizetype at = out->size();
    out->append('\0');
    body(out, e);
    const auto size = quint64(out->size() - at - 1);
    if (size < 0x80) {
        (*out)[at] = char(size);
        return;
    }
    char length[10];
    int n = 0;
    for (quint64 v = size; v != 0; v >>= 7)
        length[n++] = char((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
    out->resize(out->size() + n - 1);
    char *data = out->data();
    std::memmove(data + at + n, data + at + 1, size_t(size));
    std::memcpy(data + at, length, size_t(n));
}

} // namespace greygate
