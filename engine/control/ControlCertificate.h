// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QHostAddress>
#include <QSslCertificate>
#include <QSslKey>
#include <QString>
#include <optional>

namespace greygate {

// The control API's TLS identity: a certificate and its private key, either the admin's
// (--control-tls-cert / --control-tls-key) or generated on first start into the dbdir
// (control-cert.pem, control-key.pem, both created mode 0600 with O_EXCL) as a self-signed
// ECDSA P-256 certificate made with OpenSSL's C API, so no openssl program is needed at run
// time. Clients trust it through its SHA-256 fingerprint (pinning, docs/api.md), never
// through a CA, so a self-signed certificate is as good as a bought one here.
class ControlCertificate
{
public:
    enum class Mode : quint8
    {
        Auto, // TLS on any address but loopback, or when a certificate is configured
        On,   // TLS on every address, loopback included
        Off,  // never TLS: only loopback is allowed then
    };

    static constexpr int kValidityDays = 3650;

    QSslCertificate certificate;
    QSslKey key;

    // Whether the control API listening on `address` speaks TLS; nullopt with *error when the
    // combination is refused (plain text on a non-loopback address, or a certificate given
    // with TLS off). This is the one rule, used by greygated's option checks and the server.
    static std::optional<bool> useTls(const QHostAddress &address, Mode mode, bool certificateGiven,
                                      QString *error);
    static std::optional<Mode> parseMode(QStringView text);

    static QString generatedCertFile(const QString &dbdir);
    static QString generatedKeyFile(const QString &dbdir);

    // Loads certFile/keyFile when given (both or neither), else the generated pair in dbdir,
    // generating it first when absent. *generated says whether it was made now.
    static std::optional<ControlCertificate> load(const QString &certFile, const QString &keyFile,
                                                  const QString &dbdir, const QString &commonName,
                                                  bool *generated, QString *error);
    // Writes a new self-signed pair (files must not exist: O_EXCL).
    static bool generate(const QString &certFile, const QString &keyFile, const QString &commonName,
                         QString *error);

    // Lower-case hex SHA-256 of the DER certificate: what clients pin.
    static QString fingerprint(const QSslCertificate &certificate);
    QString fingerprint() const { return fingerprint(certificate); }
};

} // namespace greygate
