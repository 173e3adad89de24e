// SPDX-License-Identifier: GPL-3.0-or-later
// The binary event frame (docs/api.md, "Binary events") as the console decodes it
// (protocol::BinaryEvents): any bytes from a proxy are either refused with a reason and
// nothing appended, or decoded into events with consecutive ids from the header's first id,
// each an object with an id, a type and a time, and the frame's last id reported. Then the
// same bytes are read as an event to encode (EventBinary): whatever its fields, its frame
// decodes to exactly the object form the JSON stream carries (EventJson::toJson).
#include "FuzzCheck.h"
#include "control/EventBinary.h"
#include "control/EventJson.h"
#include "protocol/BinaryEvents.h"

#include <QJsonObject>
#include <cstdint>

using namespace greygate;
using protocol::BinaryEvents;

namespace {

void checkDecode(QByteArrayView frame)
{
    QJsonArray events{QJsonObject{{QStringLiteral("kept"), true}}};
    QString error;
    quint64 lastId = 0;
    if (!BinaryEvents::decode(frame, &events, &error, &lastId)) {
        FUZZ_CHECK(!error.isEmpty());
        FUZZ_CHECK(events.size() == 1);
        return;
    }
    FUZZ_CHECK(lastId >= 1 && lastId <= BinaryEvents::kMaxId);
    qint64 previous = 0;
    for (qsizetype i = 1; i < events.size(); ++i) {
        const QJsonObject e = events.at(i).toObject();
        const qint64 id = e.value(QStringLiteral("id")).toInteger(-1);
        FUZZ_CHECK(id > previous && quint64(id) <= lastId);
        FUZZ_CHECK(!e.value(QStringLiteral("type")).toString().isEmpty());
        FUZZ_CHECK(e.value(QStringLiteral("time")).isDouble());
        previous = id;
    }
}

// Takes bytes off the front of the input for one field each.
struct Fields
{
    QByteArrayView rest;
    quint8 byte()
    {
        if (rest.isEmpty())
            return 0;
        const auto b = quint8(rest.front());
        rest = rest.sliced(1);
        return b;
    }
    qint64 number()
    {
        qint64 v = 0;
        for (int i = 0; i < 8; ++i)
            v = (v << 8) | byte();
        return v;
    }
    QByteArray bytes()
    {
        const qsizetype n = std::min<qsizetype>(byte(), rest.size());
        const QByteArray out = rest.first(n).toByteArray();
        rest = rest.sliced(n);
        return out;
    }
};

void checkRoundTrip(QByteArrayView input)
{
    Fields f{input};
    Event e;
    e.id = 1 + quint64(f.number()) % BinaryEvents::kMaxId;
    e.type = EventType(f.byte() % (int(EventType::PoolRetry) + 1));
    e.outcome = AttemptOutcome(f.byte() % (int(AttemptOutcome::Blocked) + 1));
    e.decidedBy = DecidedBy(f.byte() % (int(DecidedBy::Other) + 1));
    e.source = EventSource(f.byte() % 2);
    e.shadow = ShadowEffect(f.byte() % 3);
    e.tls = f.byte() & 1;
    e.time = f.number();
    e.ref = f.number();
    e.shadowPolicy = f.number();
    e.bytes = f.number();
    e.attempts = quint32(f.number());
    e.client = f.bytes();
    e.sender = f.bytes();
    e.recipient = f.bytes();
    e.key = f.bytes();
    e.keyWhy = f.bytes();
    e.helo = f.bytes();
    e.reply = f.bytes();
    // QStrings come from the engine, never from the wire: valid UTF-16 (as toUtf8 keeps it).
    e.action = QString::fromUtf8(f.bytes());
    e.subject = QString::fromUtf8(f.bytes());
    e.who = QString::fromUtf8(f.bytes());
    QByteArray frame;
    BinaryEvents::appendHeader(&frame, e.id, 1);
    EventBinary::append(&frame, e);
    QJsonArray events;
    QString error;
    FUZZ_CHECK(BinaryEvents::decode(frame, &events, &error));
    FUZZ_CHECK(events.size() == 1 && events.at(0).toObject() == EventJson::toJson(e));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    checkDecode(input);
    checkRoundTrip(input);
    return 0;
}
