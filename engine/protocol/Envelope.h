// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ProtocolError.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <optional>

namespace greygate::protocol {

// One request: {"v":1,"id":ID,"method":"queue.list","params":{...}}. "v" and "id" may be
// left out ("v" means 1, a missing id is answered with "id":null); params default to {}.
struct Request
{
    QJsonValue id; // a string (at most kMaxIdLength) or an integer, echoed in the answer
    QString method;
    QJsonObject params;
};

// What a client receives: an answer to one of its requests, pushed events, or a push
// telling it to fetch the full state again (it fell behind, or its cursor is too old).
struct Incoming
{
    enum class Kind : quint8
    {
        Result,
        Error,
        Events,
        Resync,
    };
    Kind kind = Kind::Result;
    QJsonValue id;
    QJsonValue result;
    ProtocolError error;
    QJsonArray events;  // Events: each {"id","type","time",...}
    quint64 lastId = 0; // Resync: the newest event id when it was sent
};

// The message envelope of the control API (docs/api.md, "Envelope"), shared by the server
// and the client. Decoding is strict: a message that is not exactly what the schema says is
// a bad_request naming the field, so nothing half-understood is ever acted upon.
class Envelope
{
public:
    static constexpr int kVersion = 1;
    static constexpr qsizetype kMaxIdLength = 128;
    static constexpr qsizetype kMaxMethodLength = 64;

    // Server side. On failure *error is set and *id holds the request's id when it could be
    // read (so that the error answer can name it), else null.
    static std::optional<Request> decodeRequest(QByteArrayView bytes, qsizetype maxBytes,
                                                ProtocolError *error, QJsonValue *id);
    static QByteArray result(const QJsonValue &id, const QJsonValue &result);
    static QByteArray error(const QJsonValue &id, const ProtocolError &error);
    static QByteArray events(const QJsonArray &events);
    static QByteArray resync(quint64 lastId);

    // Client side.
    static QByteArray request(const QJsonValue &id, const QString &method,
                              const QJsonObject &params);
    static std::optional<Incoming> decodeIncoming(QByteArrayView bytes, qsizetype maxBytes,
                                                  QString *error);
};

} // namespace greygate::protocol
