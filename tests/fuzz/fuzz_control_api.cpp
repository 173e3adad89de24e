// SPDX-License-Identifier: GPL-3.0-or-later
// The control API as the server runs it: each line of the input is one WebSocket text frame
// from an authenticated admin, decoded (Envelope) and called on a real ControlApi over a
// GreylistEngine, the policy handler, an EventLog and a SqliteStore in a temporary
// directory, fresh for every input so that a failure reproduces from its input alone.
// Properties: no hostile request makes the server fail internally (an Internal error means
// a commit failed or an invariant broke); every answer is a well-formed envelope the
// console decodes; and whatever the requests did, the policies export to a document that
// import accepts (PolicyJson), so a configuration can always be saved and restored.
#include "FuzzCheck.h"
#include "control/ControlApi.h"
#include "events/EventLog.h"
#include "greylist/Clock.h"
#include "greylist/GreylistEngine.h"
#include "policy/PolicyJson.h"
#include "policyd/GreylistPolicyHandler.h"
#include "protocol/Envelope.h"
#include "protocol/Methods.h"
#include "store/SqliteStore.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <cstdint>
#include <memory>

using namespace greygate;
using namespace greygate::protocol;

namespace {

constexpr int kMaxFrames = 16; // bounded work per input

struct Proxy
{
    Proxy()
    {
        SqliteStoreOptions so;
        so.dbdir = dir.path();
        store = std::make_unique<SqliteStore>(so);
        QString error;
        FUZZ_CHECK(dir.isValid() && store->open(&error));
        engine = std::make_unique<GreylistEngine>(config, clock);
        FUZZ_CHECK(engine->load(*store, &error));
        handler = std::make_unique<GreylistPolicyHandler>(*engine, *store, clock,
                                                          GreylistPolicyOptions{});
        FUZZ_CHECK(handler->policies().load(*store, &error));
        api = std::make_unique<ControlApi>(*engine, *store, *handler, events, clock, options);
        api->setConnectionCount([] { return 1; });
    }
    ~Proxy() { store->close(); }

    QTemporaryDir dir;
    ManualClock clock{1'800'000'000};
    GreylistConfig config;
    EventLog events{1000};
    ControlOptions options;
    std::unique_ptr<SqliteStore> store;
    std::unique_ptr<GreylistEngine> engine;
    std::unique_ptr<GreylistPolicyHandler> handler;
    std::unique_ptr<ControlApi> api;
};

void checkAnswer(const QByteArray &answer, const QJsonValue &id, bool ok)
{
    QString why;
    const auto incoming = Envelope::decodeIncoming(answer, 64 << 20, &why);
    FUZZ_CHECK(incoming.has_value());
    FUZZ_CHECK(incoming->kind == (ok ? Incoming::Kind::Result : Incoming::Kind::Error));
    FUZZ_CHECK(incoming->id == id);
}

void callOne(Proxy &proxy, QByteArrayView frame, const ControlCaller &admin)
{
    ProtocolError error;
    QJsonValue id;
    const std::optional<Request> request =
        Envelope::decodeRequest(frame, proxy.options.maxMessageBytes, &error, &id);
    if (!request)
        return; // fuzz_control_message covers refusals of the envelope
    const Methods::Method *method = Methods::find(request->method);
    // auth and events.* belong to the connection (ControlServer), not to ControlApi.
    if (!method || method->name == u"auth" || request->method.startsWith(u"events."))
        return;
    const std::optional<QJsonValue> result =
        proxy.api->call(request->method, request->params, admin, &error);
    if (!result) {
        if (error.code == ErrorCode::Internal)
            std::fprintf(stderr, "internal error: %s\n", qPrintable(error.message));
        FUZZ_CHECK(error.code != ErrorCode::Internal);
        FUZZ_CHECK(!error.message.isEmpty());
        checkAnswer(Envelope::error(id, error), id, false);
        return;
    }
    checkAnswer(Envelope::result(id, *result), id, true);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int argc = 1;
    static char name[] = "fuzz_control_api";
    static char *argv[] = {name, nullptr};
    static QCoreApplication app(argc, argv); // as in greygated: Qt's services expect one
    if (size > 256 * 1024)
        return 0;

    Proxy proxy;
    const ControlCaller admin{ControlRole::Admin, QStringLiteral("admin@127.0.0.1")};
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    qsizetype pos = 0;
    for (int frames = 0; pos <= input.size() && frames < kMaxFrames; ++frames) {
        qsizetype end = input.indexOf('\n', pos);
        if (end < 0)
            end = input.size();
        // As ControlServer receives it: a text frame, so invalid UTF-8 arrives replaced.
        const QByteArrayView line = QByteArrayView(input).sliced(pos, end - pos);
        callOne(proxy, QString::fromUtf8(line).toUtf8(), admin);
        proxy.clock.advanceSeconds(61); // retries and validity windows move on
        pos = end + 1;
    }

    ProtocolError error;
    const std::optional<QJsonValue> exported =
        proxy.api->call(QStringLiteral("policy.export"), {}, admin, &error);
    FUZZ_CHECK(exported.has_value() && exported->isObject());
    QString why;
    const QByteArray document = QJsonDocument(exported->toObject()).toJson(QJsonDocument::Compact);
    const auto parsed = PolicyJson::parse(document, &why);
    if (!parsed)
        std::fprintf(stderr, "export refused on import: %s\n", qPrintable(why));
    FUZZ_CHECK(parsed.has_value());
    return 0;
}
