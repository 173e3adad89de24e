// SPDX-License-Identifier: GPL-3.0-or-later
#include "EventBinary.h"

#include "events/Event.h"
#include "protocol/BinaryEvents.h"

#include <cstring>

namespace greygate {

using protocol::BinaryEvents;
using Writer = BinaryEvents::Writer;

namespace {

// What one record can take at most: every field's bound, whichever the type writes.
qsizetype maxRecordBytes(const Event &e)
{
    constexpr qsizetype kNumbers = 16 * Writer::kMaxVarint; // type, time, flags, ids...
    return kNumbers + Writer::maxBytes(e.client) + Writer::maxBytes(e.sender) +
           Writer::maxBytes(e.recipient) + Writer::maxBytes(e.key) + Writer::maxBytes(e.keyWhy) +
           Writer::maxBytes(e.helo) + Writer::maxBytes(e.reply) + Writer::maxBytes(e.subject) +
           Writer::maxBytes(e.action) + Writer::maxBytes(e.who);
}

void triplet(Writer &w, const Event &e)
{
    w.bytes(e.client);
    w.bytes(e.sender);
    w.bytes(e.recipient);
}

quint32 smtpFlags(const Event &e)
{
    if (e.source != EventSource::Smtp)
        return 0;
    return BinaryEvents::Smtp | (e.tls ? BinaryEvents::Tls : 0) |
           (e.helo.isEmpty() ? 0 : BinaryEvents::HasHelo);
}

void attempt(Writer &w, const Event &e)
{
    // The object form's optional fields, each present exactly when toJson writes it.
    const quint32 flags = (e.ref != 0 ? BinaryEvents::HasRef : 0) |
                          (e.action.isEmpty() ? 0 : BinaryEvents::HasReason) |
                          (e.shadow != ShadowEffect::None ? BinaryEvents::HasShadow : 0) |
                          (e.key.isEmpty() ? 0 : BinaryEvents::HasKey) |
                          (e.keyWhy.isEmpty() ? 0 : BinaryEvents::HasKeyWhy) | smtpFlags(e);
    w.varint(flags);
    w.byte(quint8(e.outcome));
    w.byte(quint8(e.decidedBy));
    w.varint(e.attempts);
    if (flags & BinaryEvents::HasRef)
        w.zigzag(e.ref);
    if (flags & BinaryEvents::HasReason)
        w.text(e.action);
    if (flags & BinaryEvents::HasShadow) {
        w.zigzag(e.shadowPolicy);
        w.byte(quint8(e.shadow));
    }
    if (flags & BinaryEvents::HasKey)
        w.bytes(e.key);
    if (flags & BinaryEvents::HasKeyWhy)
        w.word(e.keyWhy);
    if (flags & BinaryEvents::HasHelo)
        w.bytes(e.helo);
    triplet(w, e);
}

void body(Writer &w, const Event &e)
{
    w.byte(quint8(e.type));
    w.zigzag(e.time);
    switch (e.type) {
    case EventType::Attempt:
        attempt(w, e);
        break;
    case EventType::QueueChange:
        triplet(w, e);
        w.text(e.action);
        w.text(e.who);
        break;
    case EventType::FailedToRetry:
        triplet(w, e);
        w.varint(e.attempts);
        break;
    case EventType::PolicyChange:
    case EventType::GroupChange:
    case EventType::AutoAllowChange:
        w.text(e.subject);
        w.text(e.action);
        w.text(e.who);
        w.zigzag(e.ref);
        break;
    case EventType::Message: {
        const quint32 flags = smtpFlags(e);
        w.varint(flags);
        if (flags & BinaryEvents::HasHelo)
            w.bytes(e.helo);
        triplet(w, e);
        w.varint(e.attempts);
        w.zigzag(e.bytes);
        w.bytes(e.reply);
        break;
    }
    case EventType::Alert:
        w.text(e.subject);
        w.bytes(e.client);
        w.text(e.action);
        w.zigzag(e.ref);
        w.byte(e.attempts != 0);
        break;
    case EventType::PoolRetry:
        w.text(e.subject);
        w.bytes(e.sender);
        w.bytes(e.recipient);
        w.bytes(e.client); // the addresses, comma-separated
        w.varint(e.attempts);
        w.zigzag(e.ref);
        w.text(e.action);
        break;
    }
}

} // namespace

void EventBinary::append(QByteArray *out, const Event &e)
{
    // Sized once for the worst case, written through a pointer, cut to what was written
    // (the capacity stays: the window appends event after event into it).
    const qsizetype at = out->size();
    out->resize(at + maxRecordBytes(e));
    char *start = out->data() + at;
    Writer w{start + 1};
    body(w, e);
    // The length goes first but is known last: one byte is kept for it, enough for most
    // attempts (under 128 bytes); a longer body is moved up by the extra length bytes (the
    // worst case left room for them).
    const auto size = quint64(w.p - start - 1);
    char length[Writer::kMaxVarint];
    Writer lw{length};
    lw.varint(size);
    const qsizetype lengthBytes = lw.p - length;
    if (lengthBytes > 1)
        std::memmove(start + lengthBytes, start + 1, size_t(size));
    std::memcpy(start, length, size_t(lengthBytes));
    out->resize(at + lengthBytes + qsizetype(size));
}

} // namespace greygate
