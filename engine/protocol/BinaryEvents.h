// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonArray>
#include <QString>

namespace greygate::protocol {

// The binary event frame (docs/api.md, "Binary events"), for subscribers that ask for
// `"codec": 1`: no field names, no JSON escaping, numbers as varints. The server encodes
// each event once into its window (engine/control/EventBinary) and a frame is a header
// followed by a slice of those records, so every subscriber at any cursor shares the bytes.
// Shared by both ends: the writing primitives for the server, the decoder for the client,
// which turns a frame into the very objects the JSON stream carries (EventJson::toJson).
//
// Frame: 0x00 (no JSON message starts so), the codec version, varint firstId, varint count,
// then `count` records, the i-th being event firstId + i. Record: varint length, then that
// many bytes: the type (u8), zigzag varint time, then its type's fields (docs/api.md).
class BinaryEvents
{
public:
    static constexpr char kMarker = '\0';
    static constexpr quint8 kVersion = 1;
    // Bounds the decoder holds every frame to, whoever sent it.
    static constexpr qsizetype kMaxRecordBytes = 1 << 20;
    static constexpr quint64 kMaxCount = 1'000'000;
    static constexpr quint64 kMaxId = (quint64(1) << 53) - 1; // exact in a JSON number

    // Field presence bits of attempt and message records.
    enum Flag : quint32
    {
        HasRef = 1,
        HasReason = 2,
        HasShadow = 4,
        HasKey = 8,
        HasKeyWhy = 16,
        Smtp = 32,
        Tls = 64,
        HasHelo = 128,
    };

    // Writing (server side).
    static void appendVarint(QByteArray *out, quint64 value);
    static void appendSigned(QByteArray *out, qint64 value); // zigzag
    static void appendBytes(QByteArray *out, QByteArrayView bytes);
    // A QString as UTF-8 with its length: ASCII (every name, action and reason the engine
    // writes) straight from UTF-16 without a temporary.
    static void appendText(QByteArray *out, QStringView text);
    static void appendHeader(QByteArray *out, quint64 firstId, quint64 count);
    static bool isFrame(QByteArrayView message)
    {
        return !message.isEmpty() && message.front() == kMarker;
    }

    // Reading (client side): the events of one frame in their object form, appended to
    // *events, and the id of the frame's last event (also when its type is unknown here, so
    // that a resume does not ask for it again). False with *error saying what is wrong
    // (nothing is appended then).
    static bool decode(QByteArrayView frame, QJsonArray *events, QString *error,
                       quint64 *lastId = nullptr);

    // The names the object form uses for the enumerations' wire values (engine/events
    // Event.h): nullptr outside their range.
    static const char *typeName(quint8 type);
    static const char *outcomeName(quint8 outcome);
    static const char *shadowName(quint8 effect);
    // Who decided an attempt as its "policy" field names it: "7", "none", "group:3"...
    static QString deciderKey(quint8 decidedBy, qint64 ref);
};

} // namespace greygate::protocol
