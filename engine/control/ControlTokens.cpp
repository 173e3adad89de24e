// SPDX-License-Identifier: GPL-3.0-or-later
#include "ControlTokens.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace greygate {

namespace {

QByteArray sha256(QByteArrayView bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256);
}

QString errnoText()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

} // namespace

QString ControlTokens::adminFile(const QString &dir)
{
    return QDir(dir).filePath(QStringLiteral("control.token"));
}

QString ControlTokens::readOnlyFile(const QString &dir)
{
    return QDir(dir).filePath(QStringLiteral("control-readonly.token"));
}

QByteArray ControlTokens::generate()
{
    quint32 words[8];
    QRandomGenerator::system()->fillRange(words);
    return QByteArray(reinterpret_cast<const char *>(words), sizeof(words))
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

bool ControlTokens::ensure(const QString &path, QString *error)
{
    const QByteArray local = QFile::encodeName(path);
    // O_EXCL: never truncate or follow a file (or link) that appeared meanwhile; 0600 from
    // the start, so the token is never readable by others, not even for a moment.
    const int fd =
        ::open(local.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return true;
        *error = QStringLiteral("cannot create %1: %2").arg(path, errnoText());
        return false;
    }
    const QByteArray line = generate() + '\n';
    const bool written =
        ::write(fd, line.constData(), size_t(line.size())) == line.size() && ::fsync(fd) == 0;
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

std::optional<QByteArray> ControlTokens::readFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    const QByteArray token = file.read(kMaxTokenBytes + 1).split('\n').value(0).trimmed();
    if (token.size() < 16 || token.size() > kMaxTokenBytes) {
        *error = QStringLiteral("%1 does not hold a token (16 to %2 characters on the first line)")
                     .arg(path)
                     .arg(kMaxTokenBytes);
        return std::nullopt;
    }
    return token;
}

bool ControlTokens::load(const QString &dir, QString *error)
{
    if (dir.isEmpty()) {
        *error = QStringLiteral("no directory for the control tokens");
        return false;
    }
    for (const QString &path : {adminFile(dir), readOnlyFile(dir)}) {
        if (!ensure(path, error))
            return false;
        struct stat st;
        if (::lstat(QFile::encodeName(path).constData(), &st) != 0) {
            *error = QStringLiteral("cannot stat %1: %2").arg(path, errnoText());
            return false;
        }
        if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
            *error = QStringLiteral("%1 must be a regular file readable by its owner only "
                                    "(chmod 600 it)")
                         .arg(path);
            return false;
        }
    }
    const std::optional<QByteArray> admin = readFile(adminFile(dir), error);
    if (!admin)
        return false;
    const std::optional<QByteArray> readOnly = readFile(readOnlyFile(dir), error);
    if (!readOnly)
        return false;
    if (*admin == *readOnly) {
        *error = QStringLiteral("the admin and read-only control tokens are the same");
        return false;
    }
    m_adminHash = sha256(*admin);
    m_readOnlyHash = sha256(*readOnly);
    return true;
}

bool ControlTokens::equalConstantTime(const QByteArray &a, const QByteArray &b)
{
    // Both are SHA-256 digests (32 bytes): the loop's length never depends on the input.
    if (a.size() != b.size())
        return false;
    volatile unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff = diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]));
    return diff == 0;
}

ControlRole ControlTokens::check(QByteArrayView token) const
{
    if (m_adminHash.isEmpty() || token.isEmpty() || token.size() > kMaxTokenBytes)
        return ControlRole::None;
    const QByteArray hash = sha256(token);
    // Both comparisons always run, whichever matches.
    const bool admin = equalConstantTime(hash, m_adminHash);
    const bool readOnly = equalConstantTime(hash, m_readOnlyHash);
    if (admin)
        return ControlRole::Admin;
    return readOnly ? ControlRole::ReadOnly : ControlRole::None;
}

} // namespace greygate
