// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "client/ProxyConnection.h"

#include <QObject>
#include <QStringList>
#include <memory>

namespace greygate {

// greygatectl's exit codes (greygatectl --help), for scripts.
enum CtlExit : int
{
    CtlOk = 0,
    CtlFailed = 1,   // the proxy refused or failed the request
    CtlUsage = 2,    // bad command line
    CtlConnect = 3,  // cannot connect, or authentication refused
    CtlNotFound = 4, // no such triplet, policy, group...
};

// One greygatectl run: connects through ProxyConnection, runs one command, prints a table
// (or the JSON with --json) and finishes with an exit code.
class Greygatectl : public QObject
{
    Q_OBJECT

public:
    Greygatectl() = default;
    ~Greygatectl() override;

    // Parses the command line; CtlOk means run() may go on, anything else is the exit code
    // (help and usage errors are printed already).
    int parse(const QStringList &arguments);
    // Starts the command; finished(code) is emitted once it is done.
    void run();

    static QString helpText();

Q_SIGNALS:
    void finished(int code);

private:
    using Reply = ProxyConnection::Reply;

    void start();
    void call(const QString &method, const QJsonObject &params,
              std::function<void(const QJsonValue &)> onResult);
    void done(int code);
    void printJson(const QJsonValue &value);
    void printChangeResult(const QJsonValue &result);
    bool readJsonFile(const QString &path, QJsonObject *out);
    // --config FILE: key = value lines (kConfigKeys) under what the command line gave.
    bool readConfig(const QString &path);
    std::optional<QJsonObject> tripletArgs(int first);

    void status();
    void queue();
    void policy();
    void rejections();
    // GreygatectlGroups.cpp
    void policyEdit();
    void policyHistory(const QString &sub); // GreygatectlReplay.cpp
    bool applyMode(QJsonObject *policy);
    void group();
    void groupMembers(const QString &op);
    void groupImport();
    void groupExport();
    void autoAllow();
    // Finds a group by id or (case-insensitive) name and hands over its full object.
    void withGroup(const QString &idOrName, std::function<void(const QJsonObject &)> then);
    // The version to change from: --version when given, else the object's current one.
    std::optional<qint64> versionFrom(const QJsonObject &object);

    static void print(const QString &text);
    static void printError(const QString &text);
    static std::optional<qint64> timeArg(const QString &text);
    void report();
    void watch();
    // GreygatectlRelease.cpp
    void release(); // release and expect
    void releases();
    void delay();
    void triage();
    void alerts();
    static std::optional<qint64> durationArg(const QString &text);
    void poolBypass(); // GreygatectlSpf.cpp
    void rewriting();  // GreygatectlRewriting.cpp

    QStringList m_args; // the positional arguments: command and its operands
    QHash<QString, QString> m_values;
    bool m_json = false;
    QString m_url;
    QString m_tokenFile;
    int m_timeoutMs = 30'000;
    std::unique_ptr<ProxyConnection> m_connection;
    qint64 m_watchLeft = -1;
    bool m_finished = false;
};

} // namespace greygate
