// SPDX-License-Identifier: GPL-3.0-or-later
// The control API's messages as both ends decode them (engine/protocol): a WebSocket text
// frame read by the server as a request envelope, and read by the console as an answer or
// pushed events. The frame's "params" (or its "result") then go through every parameter
// and result codec. Properties: a refused message says why (a message, and the id when
// it could be read); an accepted request re-encodes to a request that decodes to the same
// one; every codec that accepts an object writes it back to JSON that it accepts again and
// writes the same (what the console sends, the server reads, and back).
#include "FuzzCheck.h"
#include "protocol/Envelope.h"
#include "protocol/Hello.h"
#include "protocol/Methods.h"
#include "protocol/QueueMessages.h"
#include "protocol/RejectionMessages.h"
#include "protocol/StatsRange.h"
#include "protocol/Status.h"

#include <QJsonDocument>
#include <QString>
#include <cstdint>

using namespace greygate;
using namespace greygate::protocol;

namespace {

constexpr qsizetype kMaxBytes = 1024 * 1024; // ControlOptions' default message limit

// Codecs for top-level objects (params, results): fromJson(o, &error).
template <typename T> void roundTrip(const QJsonObject &object)
{
    ProtocolError error;
    const std::optional<T> value = T::fromJson(object, &error);
    if (!value) {
        FUZZ_CHECK(!error.message.isEmpty());
        return;
    }
    const QJsonObject written = value->toJson();
    ProtocolError again;
    const std::optional<T> reread = T::fromJson(written, &again);
    FUZZ_CHECK(reread.has_value());
    FUZZ_CHECK(reread->toJson() == written);
}

void checkRequest(QByteArrayView bytes)
{
    ProtocolError error;
    QJsonValue id;
    const std::optional<Request> request = Envelope::decodeRequest(bytes, kMaxBytes, &error, &id);
    if (!request) {
        FUZZ_CHECK(!error.message.isEmpty());
        FUZZ_CHECK(id.isNull() || id.isString() || id.isDouble());
        // The server answers the refusal: that answer must be a well-formed error.
        QString why;
        const auto answer = Envelope::decodeIncoming(Envelope::error(id, error), kMaxBytes, &why);
        FUZZ_CHECK(answer.has_value() && answer->kind == Incoming::Kind::Error);
        FUZZ_CHECK(answer->error.code == error.code && answer->id == id);
        return;
    }
    FUZZ_CHECK(request->method.size() <= Envelope::kMaxMethodLength);
    const QByteArray encoded = Envelope::request(request->id, request->method, request->params);
    ProtocolError again;
    QJsonValue againId;
    const auto reread = Envelope::decodeRequest(encoded, kMaxBytes, &again, &againId);
    FUZZ_CHECK(reread.has_value());
    FUZZ_CHECK(reread->id == request->id && reread->method == request->method &&
               reread->params == request->params);

    // The parameter codecs of the methods that have one, whatever the method named.
    roundTrip<QueueQuery>(request->params);
    roundTrip<TripletRef>(request->params);
    roundTrip<RejectionQuery>(request->params);
    roundTrip<StatsQuery>(request->params);
    if (Methods::find(request->method))
        FUZZ_CHECK(Methods::names().contains(request->method));
}

void checkIncoming(QByteArrayView bytes)
{
    QString why;
    const std::optional<Incoming> incoming = Envelope::decodeIncoming(bytes, kMaxBytes, &why);
    if (!incoming) {
        FUZZ_CHECK(!why.isEmpty());
        return;
    }
    if (incoming->kind == Incoming::Kind::Error) {
        FUZZ_CHECK(!ProtocolError::codeName(incoming->error.code).isEmpty());
        const auto code =
            ProtocolError::codeFromName(ProtocolError::codeName(incoming->error.code));
        FUZZ_CHECK(code.has_value() && *code == incoming->error.code);
        return;
    }
    if (incoming->kind != Incoming::Kind::Result || !incoming->result.isObject())
        return;
    // The result codecs the console applies to answers.
    const QJsonObject result = incoming->result.toObject();
    roundTrip<Hello>(result);
    roundTrip<Status>(result);
    roundTrip<QueuePage>(result);
    roundTrip<RejectionPage>(result);
    roundTrip<StatsRange>(result);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // The server reads the frame as text first (QWebSocket::textMessageReceived): invalid
    // UTF-8 arrives replaced, so decode what it decodes.
    const QByteArray frame =
        QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size)).toUtf8();
    checkRequest(frame);
    checkIncoming(frame);
    return 0;
}
