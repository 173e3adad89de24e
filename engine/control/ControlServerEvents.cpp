// SPDX-License-Identifier: GPL-3.0-or-later
// ControlServer's event stream (docs/api.md, "Events"; bench/README.md, "Events"): subscribe,
// and the flushes that push the events to the subscribers.
#include "ControlServer.h"
#include "ControlServerSocket.h"
#include "EventBinary.h"
#include "EventJson.h"
#include "events/EventLog.h"
#include "protocol/BinaryEvents.h"
#include "protocol/Envelope.h"
#include "protocol/JsonFields.h"

#include <QWebSocket>
#include <algorithm>

namespace greygate {

using namespace protocol;

QJsonValue ControlServer::subscribe(Session *s, const QJsonObject &params, ProtocolError *error)
{
    JsonFields f(params, QStringLiteral("params"));
    qint64 since = -1;
    QString epoch;
    bool binary = false;
    bool compact = false;
    qint64 codec = 0;
    f.onlyKnown({u"since", u"epoch", u"binary", u"compact", u"codec"});
    f.integer(u"since", &since, 0, JsonFields::kMaxExactInteger);
    f.string(u"epoch", &epoch, false, 64);
    f.boolean(u"binary", &binary);
    f.boolean(u"compact", &compact);
    f.integer(u"codec", &codec, 0, JsonFields::kMaxExactInteger);
    if (!f.ok()) {
        *error = f.error();
        return QJsonValue::Undefined;
    }
    // The binary event codec (docs/api.md, "Binary events"): a client asks for the version
    // it speaks; one this proxy does not speak is refused by name, so that the client asks
    // again with "compact".
    if (codec != 0 && codec != protocol::BinaryEvents::kVersion) {
        *error =
            ProtocolError::badRequest(QStringLiteral("params.codec"),
                                      QStringLiteral("this proxy speaks binary event codec %1 only")
                                          .arg(protocol::BinaryEvents::kVersion));
        return QJsonValue::Undefined;
    }
    const quint64 last = m_events.lastId();
    bool resync = false;
    if (since < 0) {
        s->cursor = last; // only what happens from now on
    } else {
        std::vector<const Event *> probe;
        resync = (!epoch.isEmpty() && epoch != m_events.epoch()) ||
                 !m_events.since(quint64(since), 0, &probe);
        s->cursor = resync ? last : quint64(since);
    }
    s->subscribed = true;
    // Compact and binary events are for binary subscribers: a text subscriber is a simple
    // client.
    s->binaryEvents = binary || compact || codec != 0;
    s->form = codec != 0 ? EventForm::Binary : compact ? EventForm::Compact : EventForm::Object;
    // A send buffer as large as the backlog a subscriber may have queued (ControlServerSocket):
    // each flush's frames go to the kernel in one write.
    if (s->tcp && s->sendBuffer == 0)
        s->sendBuffer = ControlServerSocket::setSendBuffer(
            s->tcp->socketDescriptor(), std::min(kSendBufferBytes, m_options.maxPendingBytes));
    scheduleFlush();
    QJsonObject result{{QStringLiteral("epoch"), m_events.epoch()},
                       {QStringLiteral("lastId"), qint64(last)},
                       {QStringLiteral("resync"), resync}};
    if (codec != 0)
        result.insert(QStringLiteral("codec"), codec);
    return result;
}

void ControlServer::scheduleFlush()
{
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

bool ControlServer::following(const Session &s, quint64 last)
{
    return s.subscribed && !s.closing && s.cursor < last;
}

const QByteArray &ControlServer::Frame::joined()
{
    if (bytes.isEmpty()) {
        bytes.reserve(size());
        bytes.append(head).append(body).append(tail);
    }
    return bytes;
}

ControlServer::Frame *ControlServer::frameFrom(quint64 cursor, EventForm form, FrameCache *made)
{
    const auto found = made->find(cursor);
    if (found != made->end())
        return &found->second;
    // The events written once each (m_windows) and shared by every subscriber, framed as
    // {"events":[...]} (Envelope::events) or behind a binary header (BinaryEvents); one
    // behind the window gets its batch encoded here.
    const bool binary = form == EventForm::Binary;
    Frame frame;
    QByteArrayView slice;
    if (m_windows[int(form)].slice(cursor, m_options.maxEventsPerMessage, &slice, &frame.lastId)) {
        if (binary)
            BinaryEvents::appendHeader(&frame.head, cursor + 1, frame.lastId - cursor);
        frame.body = slice;
    } else {
        std::vector<const Event *> batch;
        if (!m_events.since(cursor, m_options.maxEventsPerMessage, &batch) || batch.empty())
            return nullptr;
        if (binary)
            BinaryEvents::appendHeader(&frame.head, batch.front()->id, batch.size());
        frame.owned.reserve(qsizetype(batch.size()) * 256);
        for (size_t i = 0; i < batch.size(); ++i) {
            if (i > 0 && !binary)
                frame.owned.append(',');
            if (binary)
                EventBinary::append(&frame.owned, *batch[i]);
            else if (form == EventForm::Compact)
                EventJson::appendCompact(&frame.owned, *batch[i]);
            else
                EventJson::appendJson(&frame.owned, *batch[i]);
        }
        frame.lastId = batch.back()->id;
    }
    if (!binary) {
        frame.head = QByteArrayLiteral("{\"events\":[");
        frame.tail = "]}";
    }
    Frame &kept = made->emplace(cursor, std::move(frame)).first->second;
    if (!kept.owned.isEmpty())
        kept.body = kept.owned; // its bytes, wherever the frame was moved
    return &kept;
}

void ControlServer::flushEvents()
{
    const quint64 last = m_events.lastId();
    // A window keeps what the slowest of the subscribers it serves has not read yet; one
    // stays empty (nothing encoded) while no subscriber asks for its form.
    quint64 keepAfter[kForms] = {last, last, last};
    for (const auto &[socket, session] : m_sessions) {
        const EventWindow &window = m_windows[int(session->form)];
        if (following(*session, last) &&
            (window.count() == 0 || session->cursor >= window.after())) {
            quint64 &keep = keepAfter[int(session->form)];
            keep = std::min(keep, session->cursor);
        }
    }
    for (int form = 0; form < kForms; ++form)
        m_windows[form].update(m_events, keepAfter[form]);

    // Frames are made once per flush and cursor: subscribers that follow the stream are at
    // the same cursor and share them.
    FrameCache made[kForms];
    bool behind = false;
    for (const auto &[socket, session] : m_sessions) {
        if (following(*session, last) && !feed(session.get(), last, &made[int(session->form)]))
            behind = true;
    }
    m_events.arm();
    if (behind)
        scheduleFlush();
}

qint64 ControlServer::room(const Session &s) const
{
    const qint64 bound = s.sendBuffer > 0 ? s.sendBuffer : m_options.maxPendingBytes;
    qint64 queued = s.socket->bytesToWrite();
    if (s.tcp) {
        const qint64 unsent = ControlServerSocket::unsent(s.tcp->socketDescriptor());
        queued += std::max<qint64>(unsent, 0);
    }
    return bound - queued;
}

bool ControlServer::feed(Session *s, quint64 last, FrameCache *made)
{
    // New frames only once what the connection holds has gone to the kernel, and only as
    // many as the kernel takes now: each flush is one large write instead of Qt writing a
    // little on every writability while a slow reader drains its socket (each write wakes
    // the reader). The backlog stays in the log and the windows, bounded by the log: a
    // subscriber that does not read is not written to, and if it falls out of the log
    // meanwhile it is told to resync once it reads again.
    if (s->socket->bytesToWrite() > 0)
        return false;
    // And once at least half of what it may hold has gone to the reader: a slow reader gets
    // few large writes, and one that stopped reading is not written to (not even `resync`)
    // until it reads again.
    const qint64 bound = s->sendBuffer > 0 ? s->sendBuffer : m_options.maxPendingBytes;
    qint64 space = room(*s);
    const bool drained = space >= bound;
    if (space < bound / 2)
        return false;
    Frame *batch[kMaxFramesPerFlush];
    int n = 0;
    while (n < kMaxFramesPerFlush && s->cursor < last) {
        Frame *frame = frameFrom(s->cursor, s->form, made);
        if (!frame) {
            send(s, batch, n);
            n = 0;
            s->cursor = last;
            s->socket->sendTextMessage(QString::fromUtf8(Envelope::resync(last)));
            break;
        }
        // A frame larger than the whole buffer goes alone into an empty one (the rest waits
        // in Qt's buffer, and the next frames for it).
        if (frame->size() + ControlServerSocket::kMaxHeaderBytes > space && !(n == 0 && drained))
            break;
        batch[n++] = frame;
        space -= frame->size() + ControlServerSocket::kMaxHeaderBytes;
        s->cursor = frame->lastId;
    }
    send(s, batch, n);
    return s->cursor >= last;
}

void ControlServer::send(Session *s, Frame *const *frames, int n)
{
    // Nothing after a close frame (the client's or ours): QWebSocket has left this state.
    if (n == 0 || s->socket->state() != QAbstractSocket::ConnectedState)
        return;
    if (ControlServerSocket::kDirectWrites && s->plain && s->tcp && s->tcp->bytesToWrite() == 0 &&
        s->tcp->state() == QAbstractSocket::ConnectedState) {
        // The frames as RFC 6455 frames written beneath the QWebSocket, which holds nothing
        // (its messages are whole frames in the TCP socket's buffer, empty here), so they
        // cannot interleave with its own.
        char headers[kMaxFramesPerFlush][ControlServerSocket::kMaxHeaderBytes];
        QByteArrayView parts[kMaxFramesPerFlush * 4];
        int count = 0;
        for (int i = 0; i < n; ++i) {
            const Frame &f = *frames[i];
            const int bytes =
                ControlServerSocket::frameHeader(headers[i], s->binaryEvents, quint64(f.size()));
            parts[count++] = QByteArrayView(headers[i], bytes);
            parts[count++] = f.head;
            parts[count++] = f.body;
            parts[count++] = f.tail;
        }
        static_assert(kMaxFramesPerFlush * 4 <= ControlServerSocket::kMaxParts);
        qint64 written = ControlServerSocket::write(s->tcp->socketDescriptor(), parts, count);
        if (written < 0)
            return; // the connection failed: Qt sees it too and the session ends
        // What the kernel did not take waits in Qt's buffer, in order, written on writability.
        for (int i = 0; i < count; ++i) {
            const qsizetype size = parts[i].size();
            if (written >= size) {
                written -= size;
                continue;
            }
            s->tcp->write(parts[i].data() + written, size - written);
            written = 0;
        }
        return;
    }
    for (int i = 0; i < n; ++i) {
        Frame *frame = frames[i];
        if (s->binaryEvents) {
            s->socket->sendBinaryMessage(frame->joined());
        } else {
            if (frame->text.isEmpty())
                frame->text = QString::fromUtf8(frame->joined());
            s->socket->sendTextMessage(frame->text);
        }
    }
    s->socket->flush();
}

} // namespace greygate
