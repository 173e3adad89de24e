// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonArray>
#include <QString>
#include <cstring>

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
// many bytes: the type (u8), zigzag varint time, then its type's fields (docs/api.md);
// strings are literal or an index into a fixed dictionary.
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

    // Writing (server side): into memory the caller has sized (at most maxBytes() for each
    // field), without a call or a capacity check per field: encoding is per event on the
    // decision thread (bench/README.md, "Events").
    struct Writer
    {
        char *p;

        static constexpr qsizetype kMaxVarint = 10;
        static qsizetype maxBytes(QByteArrayView bytes) { return kMaxVarint + bytes.size(); }
        static qsizetype maxBytes(QStringView text) { return kMaxVarint + 3 * text.size(); }

        void byte(quint8 value) { *p++ = char(value); }
        void varint(quint64 value)
        {
            while (value >= 0x80) {
                *p++ = char(quint8(value) | 0x80);
                value >>= 7;
            }
            *p++ = char(value);
        }
        void zigzag(qint64 value) { varint((quint64(value) << 1) ^ quint64(value >> 63)); }
        void bytes(QByteArrayView bytes)
        {
            varint(quint64(bytes.size()) << 1);
            if (!bytes.isEmpty())
                std::memcpy(p, bytes.data(), size_t(bytes.size()));
            p += bytes.size();
        }
        // A string that is often one of dictionary()'s: its index when it is.
        void word(QByteArrayView bytes);
        // A QString as UTF-8 with its length: ASCII (every name, action and reason the engine
        // writes) straight from UTF-16 without a temporary.
        void text(QStringView text);
    };
    // Strings the engine writes for event after event (an IP-keyed triplet's keyWhy, a
    // third of a plain attempt's bytes otherwise), sent as their index: a string field's
    // length varint is (length << 1) for the bytes that follow, (index << 1) | 1 for an entry
    // here. Only ever appended to within a codec version. Empty past the end.
    static QByteArrayView dictionary(quint64 index);
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
