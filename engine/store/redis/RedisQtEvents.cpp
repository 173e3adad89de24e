// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisQtEvents.h"

#include <QSocketNotifier>
#include <hiredis/async.h>

namespace greygate {

RedisQtEvents::RedisQtEvents(QObject *parent)
    : QObject(parent)
{}

RedisQtEvents::~RedisQtEvents()
{
    if (m_context)
        m_context->ev.data = nullptr;
}

bool RedisQtEvents::attach(redisAsyncContext *context)
{
    if (context->ev.data)
        return false;
    m_context = context;
    // Both notifiers live as long as the adapter and are only enabled and disabled:
    // hiredis asks for write interest around every command it sends.
    m_read = new QSocketNotifier(context->c.fd, QSocketNotifier::Read, this);
    m_read->setEnabled(false);
    connect(m_read, &QSocketNotifier::activated, this, [this] {
        if (m_context)
            redisAsyncHandleRead(m_context);
    });
    m_write = new QSocketNotifier(context->c.fd, QSocketNotifier::Write, this);
    m_write->setEnabled(false);
    connect(m_write, &QSocketNotifier::activated, this, [this] {
        if (m_context)
            redisAsyncHandleWrite(m_context);
    });
    context->ev.data = this;
    context->ev.addRead = &RedisQtEvents::addRead;
    context->ev.delRead = &RedisQtEvents::delRead;
    context->ev.addWrite = &RedisQtEvents::addWrite;
    context->ev.delWrite = &RedisQtEvents::delWrite;
    context->ev.cleanup = &RedisQtEvents::cleanup;
    return true;
}

void RedisQtEvents::addRead(void *self)
{
    auto *a = static_cast<RedisQtEvents *>(self);
    if (a->m_context)
        a->m_read->setEnabled(true);
}

void RedisQtEvents::delRead(void *self)
{
    static_cast<RedisQtEvents *>(self)->m_read->setEnabled(false);
}

void RedisQtEvents::addWrite(void *self)
{
    auto *a = static_cast<RedisQtEvents *>(self);
    if (a->m_context)
        a->m_write->setEnabled(true);
}

void RedisQtEvents::delWrite(void *self)
{
    static_cast<RedisQtEvents *>(self)->m_write->setEnabled(false);
}

void RedisQtEvents::cleanup(void *self)
{
    auto *a = static_cast<RedisQtEvents *>(self);
    a->m_read->setEnabled(false);
    a->m_write->setEnabled(false);
    a->m_context = nullptr; // hiredis frees it right after this hook
}

} // namespace greygate
