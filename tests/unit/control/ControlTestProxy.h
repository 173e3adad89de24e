// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// A whole proxy in the test process, as greygated wires it: a real SqliteStore in a temp
// dir, the GreylistEngine, the policy handler (behind the DecisionRecorder), the EventLog and
// the ControlServer on a loopback ephemeral port. Plus a small WebSocket client that
// collects everything the server sends.

#include "control/ControlServer.h"
#include "control/DecisionRecorder.h"
#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "policyd/GreylistPolicyHandler.h"
#include "protocol/BinaryEvents.h"
#include "protocol/Envelope.h"
#include "store/SqliteStore.h"

#include <QJsonDocument>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>
#include <memory>

namespace greygate::test {

struct ControlTestProxy
{
    explicit ControlTestProxy(ControlOptions o = {}, qsizetype eventCapacity = 1000)
        : events(eventCapacity)
    {
        SqliteStoreOptions so;
        so.dbdir = dir.path();
        store = std::make_unique<SqliteStore>(so);
        QString error;
        ok = store->open(&error);
        engine = std::make_unique<GreylistEngine>(config, clock);
        ok = ok && engine->load(*store, &error);
        handler = std::make_unique<GreylistPolicyHandler>(*engine, *store, clock,
                                                          GreylistPolicyOptions{});
        ok = ok && handler->policies().load(*store, &error);
        recorder = std::make_unique<DecisionRecorder>(*handler, events, clock);
        if (o.tokenDir.isEmpty())
            o.tokenDir = dir.path();
        options = o;
        server = std::make_unique<ControlServer>(*engine, *store, *handler, events, clock, o);
        startError = error;
    }

    bool start() { return ok && server->start(&startError); }

    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(server->serverPort())); }
    QByteArray token(bool admin = true) const
    {
        QString error;
        return *ControlTokens::readFile(admin ? ControlTokens::adminFile(dir.path())
                                              : ControlTokens::readOnlyFile(dir.path()),
                                        &error);
    }

    // One RCPT through the recorder, committed as the policy server would.
    QByteArray decide(const QByteArray &client, const QByteArray &sender,
                      const QByteArray &recipient)
    {
        PolicyRequest r;
        r.request = "smtpd_access_policy";
        r.protocolState = "RCPT";
        r.clientAddress = client;
        r.sender = sender;
        r.recipient = recipient;
        r.present = PolicyRequest::Request | PolicyRequest::ProtocolState |
                    PolicyRequest::ClientAddress | PolicyRequest::Sender | PolicyRequest::Recipient;
        const QByteArray answer = recorder->decide(r);
        if (!recorder->commit())
            return QByteArray();
        return answer;
    }

    QTemporaryDir dir;
    ManualClock clock{1'800'000'000};
    GreylistConfig config;
    EventLog events;
    ControlOptions options;
    std::unique_ptr<SqliteStore> store;
    std::unique_ptr<GreylistEngine> engine;
    std::unique_ptr<GreylistPolicyHandler> handler;
    std::unique_ptr<DecisionRecorder> recorder;
    std::unique_ptr<ControlServer> server;
    bool ok = false;
    QString startError;
};

class TestClient : public QObject
{
public:
    TestClient()
    {
        QObject::connect(&socket, &QWebSocket::textMessageReceived, this, [this](const QString &m) {
            inbox.append(QJsonDocument::fromJson(m.toUtf8()).object());
        });
        QObject::connect(&socket, &QWebSocket::binaryMessageReceived, this,
                         [this](const QByteArray &m) {
                             ++binaryMessages;
                             codecFrames += greygate::protocol::BinaryEvents::isFrame(m) ? 1 : 0;
                             inbox.append(decodeBinary(m));
                         });
        QObject::connect(&socket, &QWebSocket::disconnected, this, [this] { closed = true; });
    }

    // A binary frame: UTF-8 JSON, or binary events (docs/api.md, "Binary events") as the
    // message {"events":[...]} they stand for, or {"malformed":why}.
    static QJsonObject decodeBinary(const QByteArray &m)
    {
        if (!greygate::protocol::BinaryEvents::isFrame(m))
            return QJsonDocument::fromJson(m).object();
        QJsonArray events;
        QString error;
        if (!greygate::protocol::BinaryEvents::decode(m, &events, &error))
            return QJsonObject{{QStringLiteral("malformed"), error}};
        return QJsonObject{{QStringLiteral("events"), events}};
    }

    bool open(const QUrl &url, const QByteArray &bearer = QByteArray())
    {
        QNetworkRequest request(url);
        if (!bearer.isEmpty())
            request.setRawHeader("Authorization", "Bearer " + bearer);
        QSignalSpy connected(&socket, &QWebSocket::connected);
        socket.open(request);
        return connected.wait(5000);
    }

    bool login(const QUrl &url, const QByteArray &token)
    {
        if (!open(url))
            return false;
        const QJsonObject answer =
            call(QStringLiteral("auth"),
                 QJsonObject{{QStringLiteral("token"), QString::fromUtf8(token)}});
        return answer.contains(QStringLiteral("result"));
    }

    // Sends raw text and returns the next answer (not an event push).
    QJsonObject sendRaw(const QByteArray &text)
    {
        const qsizetype before = answers();
        socket.sendTextMessage(QString::fromUtf8(text));
        if (!QTest::qWaitFor([&] { return answers() > before || closed; }, 5000))
            return {};
        return answers() > before ? lastAnswer() : QJsonObject();
    }

    QJsonObject call(const QString &method, const QJsonObject &params = {})
    {
        const qint64 id = nextId++;
        socket.sendTextMessage(
            QString::fromUtf8(greygate::protocol::Envelope::request(id, method, params)));
        QJsonObject found;
        // Bounded; on a timeout `found` stays empty, which the caller's checks report.
        const bool answered = QTest::qWaitFor(
            [&] {
                for (const QJsonObject &m : std::as_const(inbox)) {
                    if (m.value(QStringLiteral("id")).toInteger(-1) == id) {
                        found = m;
                        return true;
                    }
                }
                return closed;
            },
            5000);
        return answered ? found : QJsonObject();
    }

    QJsonObject result(const QString &method, const QJsonObject &params = {})
    {
        return call(method, params).value(QStringLiteral("result")).toObject();
    }

    static QString errorCode(const QJsonObject &answer)
    {
        return answer.value(QStringLiteral("error"))
            .toObject()
            .value(QStringLiteral("code"))
            .toString();
    }
    static QString errorField(const QJsonObject &answer)
    {
        return answer.value(QStringLiteral("error"))
            .toObject()
            .value(QStringLiteral("field"))
            .toString();
    }

    // Every event pushed so far, in order.
    QList<QJsonObject> events() const
    {
        QList<QJsonObject> out;
        for (const QJsonObject &m : inbox) {
            for (const QJsonValue &e : m.value(QStringLiteral("events")).toArray())
                out.append(e.toObject());
        }
        return out;
    }
    bool waitForEvents(qsizetype count)
    {
        return QTest::qWaitFor([&] { return events().size() >= count; }, 5000);
    }

    qsizetype answers() const
    {
        qsizetype n = 0;
        for (const QJsonObject &m : inbox)
            n += m.contains(QStringLiteral("id")) ? 1 : 0;
        return n;
    }
    QJsonObject lastAnswer() const
    {
        for (qsizetype i = inbox.size() - 1; i >= 0; --i) {
            if (inbox[i].contains(QStringLiteral("id")))
                return inbox[i];
        }
        return {};
    }

    QWebSocket socket;
    QList<QJsonObject> inbox;
    int binaryMessages = 0;
    int codecFrames = 0; // of them, binary event frames (subscribe "codec")
    bool closed = false;
    qint64 nextId = 1;
};

} // namespace greygate::test
