// SPDX-License-Identifier: GPL-3.0-or-later
#include "ControlCertificate.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace greygate {

namespace {

constexpr qint64 kMaxPemBytes = 1 << 20;

template <typename T, void (*Free)(T *)> struct Deleter
{
    void operator()(T *p) const { Free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using Extension = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

QString errnoText()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

QByteArray bioBytes(BIO *bio)
{
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return size > 0 ? QByteArray(data, qsizetype(size)) : QByteArray();
}

bool addExtension(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    const Extension ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    return ext && X509_add_ext(x, ext.get(), -1) == 1;
}

// O_EXCL and the final mode from the start: never follows or truncates a file that appeared
// meanwhile, and the key is never readable by others, not even for a moment.
bool writeNew(const QString &path, const QByteArray &bytes, mode_t mode, QString *error)
{
    const QByteArray local = QFile::encodeName(path);
    const int fd =
        ::open(local.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        *error = QStringLiteral("cannot create %1: %2").arg(path, errnoText());
        return false;
    }
    const bool written =
        ::write(fd, bytes.constData(), size_t(bytes.size())) == bytes.size() && ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    if (!written) {
        errno = saved;
        *error = QStringLiteral("cannot write %1: %2").arg(path, errnoText());
        ::unlink(local.constData());
        return false;
    }
    return true;
}

std::optional<QByteArray> readPem(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    const QByteArray bytes = file.read(kMaxPemBytes + 1);
    if (bytes.size() > kMaxPemBytes) {
        *error = QStringLiteral("%1 is larger than any PEM certificate or key").arg(path);
        return std::nullopt;
    }
    return bytes;
}

bool keyPermissionsOk(const QString &path, bool generated, QString *error)
{
    struct stat st;
    if (::stat(QFile::encodeName(path).constData(), &st) != 0) {
        *error = QStringLiteral("cannot stat %1: %2").arg(path, errnoText());
        return false;
    }
    // Our own key is readable by its owner only; an admin's may be shared with a group
    // (Debian's ssl-cert), never with everyone.
    const mode_t forbidden = generated ? 077 : 007;
    if (!S_ISREG(st.st_mode) || (st.st_mode & forbidden) != 0) {
        *error = QStringLiteral("%1 must be a regular file that others cannot read (chmod %2 it)")
                     .arg(path, generated ? QStringLiteral("600") : QStringLiteral("640"));
        return false;
    }
    return true;
}

} // namespace

std::optional<bool> ControlCertificate::useTls(const QHostAddress &address, Mode mode,
                                               bool certificateGiven, QString *error)
{
    const bool loopback = address.isLoopback();
    switch (mode) {
    case Mode::On:
        return true;
    case Mode::Auto:
        return !loopback || certificateGiven;
    case Mode::Off:
        if (certificateGiven) {
            *error = QStringLiteral("a TLS certificate is configured but --control-tls=off: "
                                    "remove one or the other");
            return std::nullopt;
        }
        if (!loopback) {
            *error = QStringLiteral("the control API may listen on %1 only with TLS (wss), and "
                                    "--control-tls=off: listen on loopback (127.0.0.1 or ::1) "
                                    "or set --control-tls=auto")
                         .arg(address.toString());
            return std::nullopt;
        }
        return false;
    }
    return std::nullopt;
}

std::optional<ControlCertificate::Mode> ControlCertificate::parseMode(QStringView text)
{
    const QString t = text.trimmed().toString().toLower();
    if (t == u"auto")
        return Mode::Auto;
    if (t == u"on" || t == u"yes" || t == u"true")
        return Mode::On;
    if (t == u"off" || t == u"no" || t == u"false")
        return Mode::Off;
    return std::nullopt;
}

QString ControlCertificate::generatedCertFile(const QString &dbdir)
{
    return QDir(dbdir).filePath(QStringLiteral("control-cert.pem"));
}

QString ControlCertificate::generatedKeyFile(const QString &dbdir)
{
    return QDir(dbdir).filePath(QStringLiteral("control-key.pem"));
}

bool ControlCertificate::generate(const QString &certFile, const QString &keyFile,
                                  const QString &commonName, QString *error)
{
    // ECDSA P-256: small, and its handshakes cost a fraction of RSA's.
    const Pkey key(EVP_EC_gen("P-256"));
    const X509Ptr x(X509_new());
    const Bignum serial(BN_new());
    if (!key || !x || !serial) {
        *error = QStringLiteral("cannot generate a key (OpenSSL)");
        return false;
    }
    const QByteArray cn = commonName.left(64).toUtf8();
    X509_NAME *name = X509_get_subject_name(x.get());
    const bool made =
        X509_set_version(x.get(), 2) == 1 &&
        BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
        BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x.get())) != nullptr &&
        // An hour back: a client whose clock is a little behind still accepts it.
        X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600) != nullptr &&
        X509_gmtime_adj(X509_getm_notAfter(x.get()), long(kValidityDays) * 86400) != nullptr &&
        X509_set_pubkey(x.get(), key.get()) == 1 &&
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char *>("Greygate"), -1, -1,
                                   0) == 1 &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char *>(cn.constData()),
                                   int(cn.size()), -1, 0) == 1 &&
        X509_set_issuer_name(x.get(), name) == 1 &&
        addExtension(x.get(), NID_basic_constraints, "critical,CA:FALSE") &&
        addExtension(x.get(), NID_ext_key_usage, "serverAuth") &&
        X509_sign(x.get(), key.get(), EVP_sha256()) > 0;
    const Bio certPem(BIO_new(BIO_s_mem()));
    const Bio keyPem(BIO_new(BIO_s_mem()));
    if (!made || !certPem || !keyPem || PEM_write_bio_X509(certPem.get(), x.get()) != 1 ||
        PEM_write_bio_PrivateKey(keyPem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
            1) {
        *error = QStringLiteral("cannot make a self-signed certificate (OpenSSL)");
        return false;
    }
    if (!writeNew(keyFile, bioBytes(keyPem.get()), 0600, error))
        return false;
    if (!writeNew(certFile, bioBytes(certPem.get()), 0644, error)) {
        ::unlink(QFile::encodeName(keyFile).constData());
        return false;
    }
    return true;
}

std::optional<ControlCertificate>
ControlCertificate::load(const QString &certFile, const QString &keyFile, const QString &dbdir,
                         const QString &commonName, bool *generated, QString *error)
{
    *generated = false;
    if (certFile.isEmpty() != keyFile.isEmpty()) {
        *error = QStringLiteral("--control-tls-cert and --control-tls-key go together: give "
                                "both, or neither to use a generated certificate");
        return std::nullopt;
    }
    const bool own = certFile.isEmpty();
    const QString cert = own ? generatedCertFile(dbdir) : certFile;
    const QString keyPath = own ? generatedKeyFile(dbdir) : keyFile;
    if (own) {
        const bool haveCert = QFile::exists(cert);
        const bool haveKey = QFile::exists(keyPath);
        if (haveCert != haveKey) {
            *error = QStringLiteral("%1 exists without %2: remove it to have a new pair "
                                    "generated (clients pinned to the old one must pin again)")
                         .arg(haveCert ? cert : keyPath, haveCert ? keyPath : cert);
            return std::nullopt;
        }
        if (!haveCert) {
            if (!generate(cert, keyPath, commonName, error))
                return std::nullopt;
            *generated = true;
        }
    }
    if (!keyPermissionsOk(keyPath, own, error))
        return std::nullopt;
    const std::optional<QByteArray> certBytes = readPem(cert, error);
    const std::optional<QByteArray> keyBytes =
        certBytes ? readPem(keyPath, error) : std::optional<QByteArray>();
    if (!keyBytes)
        return std::nullopt;

    // OpenSSL checks that the key belongs to the certificate: a mismatch would otherwise
    // show only as every client's handshake failing.
    const Bio certBio(BIO_new_mem_buf(certBytes->constData(), int(certBytes->size())));
    const Bio keyBio(BIO_new_mem_buf(keyBytes->constData(), int(keyBytes->size())));
    const X509Ptr x(certBio ? PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr)
                            : nullptr);
    if (!x) {
        *error = QStringLiteral("%1 holds no PEM certificate").arg(cert);
        return std::nullopt;
    }
    // An empty passphrase callback: an encrypted key fails here instead of prompting.
    const Pkey pkey(
        keyBio ? PEM_read_bio_PrivateKey(
                     keyBio.get(), nullptr, [](char *, int, int, void *) { return 0; }, nullptr)
               : nullptr);
    if (!pkey) {
        *error = QStringLiteral("%1 holds no unencrypted PEM private key").arg(keyPath);
        return std::nullopt;
    }
    if (X509_check_private_key(x.get(), pkey.get()) != 1) {
        *error = QStringLiteral("the key in %1 does not belong to the certificate in %2")
                     .arg(keyPath, cert);
        return std::nullopt;
    }

    ControlCertificate result;
    result.certificate = QSslCertificate(*certBytes, QSsl::Pem);
    for (QSsl::KeyAlgorithm algorithm : {QSsl::Ec, QSsl::Rsa, QSsl::Dsa}) {
        result.key = QSslKey(*keyBytes, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!result.key.isNull())
            break;
    }
    if (result.certificate.isNull() || result.key.isNull()) {
        *error =
            QStringLiteral("%1 or %2: a certificate or key type Qt cannot use").arg(cert, keyPath);
        return std::nullopt;
    }
    return result;
}

QString ControlCertificate::fingerprint(const QSslCertificate &certificate)
{
    return QString::fromLatin1(certificate.digest(QCryptographicHash::Sha256).toHex());
}

} // namespace greygate
